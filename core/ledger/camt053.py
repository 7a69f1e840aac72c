"""ISO 20022 camt.053 (bank to customer statement), versions 001.02 onwards, read with lxml.

Each booked credit entry (``CdtDbtInd`` CRDT, not a reversal) gives one
credit per transaction detail (``TxDtls``): a batch booking holds several.
The bank reference is the transaction's ``AcctSvcrRef``, else the entry's
(with the detail's number in a batch), else ``NtryRef``.
"""

from __future__ import annotations

import datetime as dt

from dunning.ledger.statements import StatementCredit, StatementError, amount_of

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."


def camt053_credits(data: bytes) -> list[StatementCredit]:
    from lxml import etree  # only where a camt.053 file is read

    # No entities, no network, no huge trees: a statement is data, not a document to expand.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise StatementError(f"not well-formed XML: {exc}") from None
    namespace = etree.QName(root).namespace or ""
    if not namespace.startswith(NAMESPACE_PREFIX):
        raise StatementError(f"not a camt.053 statement (namespace {namespace or 'none'!r})")
    ns = {"c": namespace}

    def text(element: etree._Element, path: str) -> str:
        found = element.find(path, ns)
        return (found.text or "").strip() if found is not None and found.text else ""

    credits: list[StatementCredit] = []
    number = 0
    for statement in root.iterfind("c:BkToCstmrStmt/c:Stmt", ns):
        statement_id = text(statement, "c:Id")
        for entry_element in statement.iterfind("c:Ntry", ns):
            number += 1
            entry = f"entry {number}" + (f" of statement {statement_id}" if statement_id else "")
            status = text(entry_element, "c:Sts") or text(entry_element, "c:Sts/c:Cd")
            if text(entry_element, "c:CdtDbtInd") != "CRDT" or text(entry_element, "c:RvslInd") == "true":
                continue
            if status and status != "BOOK":
                continue  # pending or informational: not money yet
            amount_element = entry_element.find("c:Amt", ns)
            if amount_element is None or not amount_element.get("Ccy"):
                raise StatementError(f"{entry}: no Amt with a Ccy")
            currency = amount_element.get("Ccy", "").upper()
            day = (text(entry_element, "c:BookgDt/c:Dt") or text(entry_element, "c:BookgDt/c:DtTm")[:10]
                   or text(entry_element, "c:ValDt/c:Dt"))
            try:
                paid_on = dt.date.fromisoformat(day)
            except ValueError:
                raise StatementError(f"{entry}: no booking date (BookgDt), got {day!r}") from None
            details = entry_element.findall("c:NtryDtls/c:TxDtls", ns)
            entry_reference = text(entry_element, "c:AcctSvcrRef") or text(entry_element, "c:NtryRef")
            for index, detail in enumerate(details or [None], start=1):
                where = entry if len(details) <= 1 else f"{entry}, transaction {index}"
                reference = text(detail, "c:Refs/c:AcctSvcrRef") if detail is not None else ""
                if not reference and entry_reference:
                    reference = entry_reference if len(details) <= 1 else f"{entry_reference}/{index}"
                if not reference:
                    raise StatementError(f"{where}: no bank reference (AcctSvcrRef or NtryRef)")
                amount_text = amount_element.text or ""
                if len(details) > 1 and detail is not None:
                    own = detail.find("c:Amt", ns)
                    if own is None:
                        own = detail.find("c:AmtDtls/c:TxAmt/c:Amt", ns)
                    if own is None:
                        raise StatementError(f"{where}: a batch entry's transaction has no amount of its own")
                    amount_text = own.text or ""
                    currency = own.get("Ccy", currency).upper()
                payer = iban = None
                remittance: list[str] = []
                if detail is not None:
                    # camt.053.001.02 names the payer in Dbtr/Nm, later versions in Dbtr/Pty/Nm.
                    payer = (text(detail, "c:RltdPties/c:Dbtr/c:Nm") or text(detail, "c:RltdPties/c:Dbtr/c:Pty/c:Nm")
                             or None)
                    iban = text(detail, "c:RltdPties/c:DbtrAcct/c:Id/c:IBAN") or None
                    remittance += [text(detail, "c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref")]
                    remittance += [(u.text or "").strip() for u in detail.iterfind("c:RmtInf/c:Ustrd", ns)]
                remittance.append(text(entry_element, "c:AddtlNtryInf"))
                credits.append(StatementCredit(
                    bank_reference=reference, amount=amount_of(amount_text.strip(), currency, where),
                    currency=currency, paid_on=paid_on, payer=payer, payer_iban=iban,
                    remittance=" ".join(r for r in remittance if r), entry=where))
    if number == 0:
        raise StatementError("a camt.053 file without statement entries (BkToCstmrStmt/Stmt/Ntry)")
    return credits
