"""The console's words in English and Simplified Chinese, and which language a request gets.

A small table per language rather than message catalogs: the console has a
few dozen labels, and a missing translation falls back to English (a test
checks both tables have the same keys). Figures and names come from the
engine as they are; a rule's refusal that a form shows carries a code and
its parameters (``OperationError.code``), worded here per language, and
shown in English (the command line's words) where a language lacks it.
"""

# Chinese is written with its own full-width punctuation (comma, colon, brackets), which the ambiguous-character
# rule flags.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES: Mapping[str, str] = {"en": "English", "zh_CN": "简体中文"}

EN: Mapping[str, str] = {
    "app": "dunning console",
    "sign_in": "Sign in", "sign_out": "Sign out", "name": "Name", "password": "Password",
    "bad_login": "Wrong name or password.", "too_many": "Too many failed sign-ins; try again in a few minutes.",
    "my_day": "My day", "approvals": "Approvals", "users": "Users",
    "nothing_today": "Nothing to do today.",
    "notices": "Notices", "no_notices": "No open notices.",
    "no_work_lists": "No enabled channel has a work list (the phone and visit channels have).",
    "case": "Case", "debtor": "Debtor", "number": "Number", "slot": "Slot", "dpd": "Days past due",
    "balance": "Balance", "why": "Why", "due": "Due", "address": "Address", "area": "Area",
    "owed": "What is owed", "overdue": "Overdue", "not_yet_due": "Not yet due", "interest": "Interest",
    "fees": "Fees", "total": "Total", "reference": "Reference", "amount": "Amount", "open": "Open",
    "timeline": "Evidence", "contacts": "Contacts", "promises": "Promises", "holds": "Holds", "script": "Call script",
    "no_script": "No call script for this case today.", "none": "None.",
    "log_call": "Log the outcome", "outcome": "Outcome", "note": "Note", "promise_amount": "Amount promised",
    "promise_due": "To be paid by", "approve_later": "I approve a later date (supervisor)",
    "record_payment": "Record a payment", "paid_at": "Paid on (default: now)",
    "place_hold": "Place a hold", "reason": "Reason", "until": "Until (optional)",
    "release_hold": "Release the holds", "verification_sent": "Verification of the debt was sent",
    "save": "Save", "approve": "Approve", "reject": "Reject", "nothing_waiting": "Nothing waits for approval.",
    "action": "Action", "step": "Step", "channel": "Channel", "stage": "Stage", "status": "Status",
    "role": "Role", "active": "Active", "added": "Added", "add_user": "Add a user", "disable": "Disable",
    "yes": "yes", "no": "no", "refused": "Not allowed", "not_found": "Not found", "since": "Since",
    "kind": "Kind", "value": "Value", "at": "At", "event": "Event", "details": "Details", "done": "Saved.",
    "error": "Nothing was changed.", "language": "Language", "signed_in_as": "Signed in as",
    "settle": "Propose a settlement", "settle_until": "To be paid by", "instalments": "Instalments",
    "item_disputes": "Disputed items", "dispute_item": "Dispute an item", "lift_dispute": "Lift an item's dispute",
}

ZH_CN: Mapping[str, str] = {
    "app": "催收工作台",
    "sign_in": "登录", "sign_out": "退出", "name": "用户名", "password": "密码",
    "bad_login": "用户名或密码错误。", "too_many": "登录失败次数过多，请几分钟后再试。",
    "my_day": "我的今日", "approvals": "审批", "users": "用户",
    "nothing_today": "今日没有任务。",
    "notices": "通知", "no_notices": "没有待办通知。",
    "no_work_lists": "没有启用带工作列表的渠道（电话和外访渠道带有工作列表）。",
    "case": "案件", "debtor": "债务人", "number": "号码", "slot": "时段", "dpd": "逾期天数",
    "balance": "余额", "why": "原因", "due": "到期", "address": "地址", "area": "区域",
    "owed": "欠款", "overdue": "已逾期", "not_yet_due": "未到期", "interest": "利息",
    "fees": "费用", "total": "合计", "reference": "编号", "amount": "金额", "open": "未付",
    "timeline": "证据记录", "contacts": "联系方式", "promises": "还款承诺", "holds": "暂停", "script": "通话话术",
    "no_script": "该案件今日没有通话话术。", "none": "无。",
    "log_call": "记录结果", "outcome": "结果", "note": "备注", "promise_amount": "承诺金额",
    "promise_due": "承诺还款时间", "approve_later": "我批准更晚的日期（主管）",
    "record_payment": "记录还款", "paid_at": "还款日期（默认：现在）",
    "place_hold": "暂停催收", "reason": "原因", "until": "截止日期（可选）",
    "release_hold": "解除暂停", "verification_sent": "已寄出债务核实材料",
    "save": "保存", "approve": "批准", "reject": "拒绝", "nothing_waiting": "没有待审批的事项。",
    "action": "动作", "step": "步骤", "channel": "渠道", "stage": "阶段", "status": "状态",
    "role": "角色", "active": "启用", "added": "添加日期", "add_user": "添加用户", "disable": "停用",
    "yes": "是", "no": "否", "refused": "无权访问", "not_found": "未找到", "since": "起始",
    "kind": "类型", "value": "内容", "at": "时间", "event": "事件", "details": "详情", "done": "已保存。",
    "error": "未做任何更改。", "language": "语言", "signed_in_as": "当前用户",
    "settle": "提出和解方案", "settle_until": "付款截止日期", "instalments": "分期数",
    "item_disputes": "有异议的项目", "dispute_item": "对某一项提出异议", "lift_dispute": "解除该项异议",
}

TABLES: Mapping[str, Mapping[str, str]] = {"en": EN, "zh_CN": ZH_CN}

# A form's refusals by code, in the languages other than English (English is the refusal's own text); the
# parameters are the refusal's (``OperationError.params``, ``FormError.params``).
MESSAGES: Mapping[str, Mapping[str, str]] = {"zh_CN": {
    "required": "必填。",
    "not_a_date": "不是日期（YYYY-MM-DD）：{text}",
    "not_a_moment": "不是日期或时间：{text}",
    "not_an_amount": "不是有效的{currency}金额：{text}",
    "choose_one": "请从以下选项中选择：{choices}",
    "no_outcomes": "没有启用可在此记录结果的渠道。",
    "promise_needs_amount": "还款承诺需要填写金额。",
    "promise_fields_only": "金额和日期只用于还款承诺。",
    "supervisor_approves": "只有主管可以批准更晚的日期。",
    "approval_promise_only": "批准只用于还款承诺。",
    "case_not_open": "案件 {case_id} 的状态为 {status}，不是进行中。",
    "payment_reference_taken": "案件 {case_id} 已记录过编号为 {reference} 的还款。",
    "promise_not_positive": "承诺金额必须大于零，而不是 {amount}。",
    "promise_in_past": "承诺还款时间必须在将来，而不是 {due}。",
    "instalments_out_of_order": "各期还款时间必须依次靠后。",
    "promise_over_balance": "承诺金额（{promise}）超过了欠款余额（{balance}）。",
    "promise_too_far": "还款承诺最多只能在 {days} 天内（{until} 之前）；更晚的日期需要主管批准。",
    "dispute_hold_with_end": "争议暂停没有截止日期：只有在寄出债务核实材料后才能解除；请不要填写截止日期。",
    "date_not_future": "日期 {until} 不在将来。",
    "dispute_needs_verification": "案件 {case_id} 存在争议：只有寄出债务核实材料后才能恢复催收；请勾选已寄出。",
    "no_active_hold": "案件 {case_id} 没有生效中的暂停。",
    "not_a_whole_number": "不是整数：{text}",
    "settlement_open": "案件 {case_id} 已有一个未结的和解方案。",
    "settlement_amount": "和解金额必须大于零且少于案件所欠的 {owed}，而不是 {amount}。",
    "settlement_instalments": "分期数必须在 1 到 {most} 之间（每天最多一期），而不是 {got}。",
    "settlement_discount": "{discount}% 的折扣超出了政策在 {stage} 阶段允许的范围：需由主管在命令行批准"
                           "（dunning offer --approved-by）。",
    "settlement_no_written_channel": "和解方案须通过信件或电子邮件寄出：请启用其中一个渠道。",
    "choose_decision": "请选择批准或拒绝。",
    "action_not_awaiting": "动作 {action_id} 的状态为 {status}，不在等待审批。",
    "not_found": "未找到。",
    "item_not_disputed": "{item} 未被提出争议。",
    "item_needs_verification": "{item} 存在争议：只有寄出债务核实材料后才能恢复催收；请勾选已寄出。",
    "item_already_disputed": "{item} 已被提出争议（自 {since} 起）。",
    "item_owes_nothing": "{item} 已无欠款，无需提出争议。",
    "choose_item": "请选择款项。",
    "dispute_reason_required": "请说明理由（将作为证据保存）。",
    # the debtors' page (dunning.portal): its own refusals
    "portal_promise_too_far": "还款承诺最多只能在 {days} 天内（{until} 之前）；更晚的日期请申请延期。",
    "plan_too_many": "分期方案最多 {most} 期。",
    "plan_too_few": "分期方案至少需要两期。",
    "plan_too_late": "最后一期还款最多只能在今天起 {days} 天内。",
    "request_waiting": "您之前的申请仍在等待答复。",
    "nothing_to_pay": "此账户已结清，无需付款。",
    "pay_not_positive": "付款金额必须大于零，而不是 {amount}。",
    "pay_over_balance": "付款金额（{amount}）超过了欠款余额（{balance}）。",
    "no_provider": "没有名为 {provider} 的付款方式。",
}}


def message(language: str, code: str | None, params: Mapping[str, object]) -> str | None:
    """A refusal worded in ``language``; None for English, or a code the language has no words for."""
    text = MESSAGES.get(language, {}).get(code or "")
    return text.format(**params) if text is not None else None


def words(language: str) -> dict[str, str]:
    """The labels for ``language``, English where a label has no translation."""
    return {**EN, **TABLES.get(language, {})}


def from_accept_language(header: str | None) -> str:
    """The language an ``Accept-Language`` header prefers among ours: Chinese if it ranks first, else English."""
    best, best_q = "en", -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        tag = tag.strip().lower()
        language = "zh_CN" if tag.startswith("zh") else "en" if tag.startswith("en") or tag == "*" else None
        if language and q > best_q:
            best, best_q = language, q
    return best
