"""Each form of the console refused under Simplified Chinese: the rule's message beside the field is Chinese
(its code and parameters worded by ``dunning.web.strings``), the command line keeps its English, and
nothing changed in the store."""

# The Chinese messages are written with full-width punctuation, which the ambiguous-character rule flags.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from dunning.web.strings import MESSAGES, message
from tests.conftest import Project, dump
from tests.web.conftest import app_for
from tests.web.helpers import sign_in, token

ROOT = Path(__file__).resolve().parents[2]
ZH = MESSAGES["zh_CN"]

# (who, path, form, the field whose message is checked, the Chinese it must contain). Case 2 is ann's and owes
# GBP 450.00, 3 days past due on Monday 1 June 2026; a collector may promise 2 days out.
REFUSALS = [
    ("ann", "/cases/2/call", {"outcome": "promise", "amount": "450.00", "due": "2026-06-20T10:00"},
     # word for word as docs/operators.md quotes it
     "call-due", "还款承诺最多只能在 2 天内（2026-06-03T08:00:00Z 之前）；更晚的日期需要主管批准。"),
    ("ann", "/cases/2/call", {"outcome": "promise", "amount": "5000.00", "due": "2026-06-02T10:00"},
     "call-amount", "承诺金额（GBP 5,000.00）超过了欠款余额（GBP 450.00）"),
    ("ann", "/cases/2/call", {"outcome": "promise", "due": "2026-06-02T10:00"}, "call-amount", "还款承诺需要填写金额"),
    ("ann", "/cases/2/call", {"outcome": "promise", "amount": "0", "due": "2026-06-02T10:00"},
     "call-amount", "承诺金额必须大于零"),
    ("ann", "/cases/2/call", {"outcome": "promise", "amount": "10.00", "due": "2026-05-01T10:00"},
     "call-due", "承诺还款时间必须在将来"),
    ("ann", "/cases/2/call", {"outcome": "promise", "amount": "ten", "due": "2026-06-02T10:00"},
     "call-amount", "不是有效的GBP金额：ten"),
    ("ann", "/cases/2/call", {"outcome": "promise", "amount": "10.00", "due": "soon"},
     "call-due", "不是日期或时间：soon"),
    ("ann", "/cases/2/call", {"outcome": "shouted"}, "call-outcome", "请从以下选项中选择"),
    ("ann", "/cases/2/call", {"outcome": "no_answer", "amount": "10.00"}, "call-outcome", "金额和日期只用于还款承诺"),
    ("ann", "/cases/2/call", {"outcome": "promise", "amount": "10.00", "due": "2026-06-20T10:00", "approve": "1"},
     "call-approve", "只有主管可以批准更晚的日期"),
    ("sam", "/cases/2/call", {"outcome": "no_answer", "approve": "1"}, "call-approve", "批准只用于还款承诺"),
    ("ann", "/cases/2/payment", {}, "payment-amount", "必填。"),
    ("ann", "/cases/2/payment", {"amount": "12.345"}, "payment-amount", "不是有效的GBP金额：12.345"),
    ("ann", "/cases/2/hold", {"reason": "dispute", "until": "2026-07-01"}, "hold-until", "争议暂停没有截止日期"),
    ("ann", "/cases/2/hold", {"reason": "other", "until": "2026-05-01"}, "hold-until", "日期 2026-05-01 不在将来"),
    ("ann", "/cases/2/hold", {"reason": "other", "until": "July"}, "hold-until", "不是日期（YYYY-MM-DD）：July"),
    ("ann", "/cases/2/hold", {"reason": "whim"}, "hold-reason", "请从以下选项中选择"),
    ("ann", "/cases/2/release", {}, "release-note", "案件 2 没有生效中的暂停"),
    ("sam", "/cases/2/settle", {"amount": "450.00", "until": "2026-06-20"}, "settle-amount",
     "和解金额必须大于零且少于案件所欠的 GBP 450.00"),
    ("sam", "/cases/2/settle", {"amount": "400.00", "until": "2026-05-20"}, "settle-until", "日期 2026-05-20 不在将来"),
    ("sam", "/cases/2/settle", {"amount": "400.00", "until": "2026-06-20", "instalments": "two"},
     "settle-instalments", "不是整数：two"),
    ("sam", "/cases/2/settle", {"amount": "400.00", "until": "2026-06-03", "instalments": "5"},
     "settle-instalments", "分期数必须在 1 到 2 之间"),
    ("ann", "/cases/2/dispute", {"reason": "never delivered"}, "dispute-reference", "请选择款项。"),
    ("ann", "/cases/2/dispute", {"reference": "INV-2"}, "dispute-reason", "请说明理由（将作为证据保存）。"),
    ("ann", "/cases/2/lift-dispute", {"reference": "INV-2", "reason": "settled"}, "lift-reference",
     "2/INV-2 未被提出争议。"),
]


def _in_chinese(client: TestClient, who: str) -> None:
    assert sign_in(client, who).status_code == 303
    assert client.get("/lang/zh_CN", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(("who", "path", "form", "beside", "chinese"), REFUSALS,
                         ids=[f"{r[1].rsplit('/', 1)[-1]}-{i}" for i, r in enumerate(REFUSALS)])
def test_a_refused_form_says_why_in_chinese_beside_the_field_and_changes_nothing(
        floor: Project, who: str, path: str, form: dict[str, str], beside: str, chinese: str):
    client = TestClient(app_for(floor))
    _in_chinese(client, who)
    before = dump(floor)
    answer = client.post(path, data={**form, "csrf": token(client, "/cases/2")})
    assert answer.status_code == 422
    shown = re.search(rf'id="{beside}-error">([^<]+)<', answer.text)
    assert shown, f"no message beside {beside}"
    assert chinese in shown.group(1)
    assert "未做任何更改。" in answer.text
    assert dump(floor) == before


def test_a_dispute_is_released_only_with_verification_and_says_so_in_chinese(floor: Project):
    floor("hold", "2", "--reason", "dispute", now="2026-06-01T08:30:00+01:00")
    client = TestClient(app_for(floor))
    _in_chinese(client, "sam")
    before = dump(floor)
    answer = client.post("/cases/2/release", data={"csrf": token(client, "/cases/2")})
    assert answer.status_code == 422
    assert re.search(r'id="release-verification_sent-error">案件 2 存在争议', answer.text)
    assert dump(floor) == before
    # The command line says the same in English, as before.
    refused = floor("release", "2", "--by", "sam", expect=1)
    assert "case 2 is disputed: collection resumes only once verification of the debt was sent" in refused.output


def test_an_approval_refused_is_worded_in_chinese_beside_its_action(floor: Project):
    client = TestClient(app_for(floor))
    _in_chinese(client, "sam")
    csrf = token(client, "/approvals")
    answer = client.post("/approvals/999", data={"csrf": csrf, "decision": "approve"})
    assert answer.status_code == 422 and "未找到。" in answer.text
    answer = client.post("/approvals/1", data={"csrf": csrf, "decision": "maybe"})
    assert answer.status_code == 422 and "请选择批准或拒绝。" in answer.text


def test_every_code_a_form_can_meet_has_chinese_words_that_take_its_parameters():
    sources = ["core/operations.py", "core/ledger/settlement.py", "core/web/case_forms.py",
               "core/web/settlement_form.py", "core/web/approvals_page.py", "core/corrections.py",
               "core/web/dispute_form.py", "core/portal/actions.py", "core/portal/payments.py",
               "core/web/portal_forms.py"]
    raised = set()
    for source in sources:
        text = (ROOT / source).read_text(encoding="utf-8")
        raised |= set(re.findall(r'code="([a-z_]+)"', text))
        raised |= set(re.findall(r'FormError\([^()]*?"[^"]*",\s*[^,]*?,\s*"([a-z_]+)"', text, re.DOTALL))
    assert {"promise_too_far", "promise_over_balance", "dispute_hold_with_end", "required", "choose_one"} <= raised
    assert raised - set(ZH) == set()
    # Each one's words take the parameters it is raised with (a missing one would raise KeyError here).
    params = {"case_id": 2, "status": "paid", "reference": "R1", "amount": "1.00", "due": "2026-06-01T10:00:00Z",
              "promise": "GBP 1.00", "balance": "GBP 0.50", "days": 2, "until": "2026-06-03", "text": "x",
              "currency": "GBP", "choices": "a, b", "owed": "GBP 1.00", "most": 2, "got": 3, "discount": 20,
              "stage": "internal", "limit": 10, "action_id": 9, "item": "2/INV-2",
              "since": "2026-06-01", "provider": "cash"}
    assert all(message("zh_CN", code, params) for code in ZH)
    assert message("en", "promise_too_far", params) is None  # English is the refusal's own text


# (who, path, form, the line shown after the change in Chinese; the English lines are the forms' own tests').
DONE_LINES = [
    ("ann", "/cases/2/call", {"outcome": "promise", "amount": "450.00", "due": "2026-06-02T16:00"},
     "电话 1 已记录，结果：promise；还款承诺 1 已记录"),
    ("ann", "/cases/2/payment", {"amount": "50.00"}, "已收款 GBP 50.00；余额 GBP 400.00"),
    ("ann", "/cases/2/hold", {"reason": "other", "until": "2026-07-01"}, "暂停 1 已设置（other）"),
    ("ann", "/cases/2/dispute", {"reference": "INV-2", "reason": "never delivered"},
     "2/INV-2：该款项已暂停催收，并已通知主管"),
]


@pytest.mark.parametrize(("who", "path", "form", "chinese"), DONE_LINES,
                         ids=[r[1].rsplit("/", 1)[-1] for r in DONE_LINES])
def test_the_line_after_a_change_reads_in_the_consoles_language(
        floor: Project, who: str, path: str, form: dict[str, str], chinese: str):
    client = TestClient(app_for(floor))
    _in_chinese(client, who)
    answer = client.post(path, data={**form, "csrf": token(client, "/cases/2")}, follow_redirects=False)
    assert answer.status_code == 303
    shown = re.search(r'class="flash" role="status">([^<]+)<', client.get(answer.headers["location"]).text)
    assert shown and chinese in shown.group(1), shown
