"""The debtors' page's words in English and Simplified Chinese (the console's are in ``strings``).

Kept apart from the console's table: a debtor reads other words than a
collector (no roles, no evidence), and the two pages change for different
reasons. A test checks both tables have the same keys; the rules' own
messages come from the engine as they are.
"""

# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Mapping

EN: Mapping[str, str] = {
    "title": "Your account", "hello": "Account of", "refused": "This link cannot be opened",
    "refused_text": "The link may be mistyped or too old. Please use the link in our latest message, "
                    "or contact us.",
    "slow_down": "Too many attempts", "slow_down_text": "Please wait a few minutes and try again.",
    "csrf": "This form has expired", "csrf_text": "Please open your page again and repeat what you did.",
    "owed": "What you owe", "overdue": "Overdue", "later": "Falling due later", "interest": "Interest",
    "fees": "Fees", "total": "Total", "pay_with": "Reference to pay with", "disputed": "Under dispute",
    "item": "Item", "due": "Due", "open": "Open", "disputed_on": "Disputed on", "nothing_due": "Nothing is due.",
    "promise": "Promise to pay", "promise_text": "Tell us when you will pay (at most {days} days from today).",
    "amount": "Amount", "pay_by": "To be paid by", "send": "Send", "more_time": "Ask for more time",
    "more_time_text": "Need longer? Ask, and we will answer.", "reason": "Reason", "plan": "Ask for an instalment plan",
    "plan_text": "Split what you owe into payments (at least two).", "instalment": "Payment",
    "dispute": "Dispute an item", "dispute_text": "Tell us what is wrong; we hold that item while we look into it.",
    "opt_out": "Stop a kind of message", "opt_out_text": "We will no longer contact you this way.",
    "channel": "Channel", "pay": "Pay now", "pay_text": "Pay by card or bank through our payment partner.",
    "provider": "Pay through", "no_provider": "Paying online is not available; please use the reference above.",
    "error": "Nothing was changed.", "done_promise": "Thank you: your promise is recorded.",
    "done_more_time": "Your request was sent; we will answer soon.",
    "done_more_time_now": "Thank you: your promise is recorded.",
    "done_plan": "Your plan was sent; we will answer soon.", "done_plan_now": "Thank you: your plan is recorded.",
    "done_dispute": "Your dispute is recorded; we hold that item while we look into it.",
    "done_opt_out": "Done: we will not contact you that way again.",
    "done_paid": "Thank you: once the payment is confirmed it shows here.",
    "required": "required", "settled": "This account is settled. Thank you.",
    "m_call": "Phone calls", "m_text": "Text messages", "m_email": "Email", "m_letter": "Letters",
    "m_visit": "Visits", "continue": "Continue to the payment page",
    "continue_text": "You are being taken to our payment partner's page.",
}

ZH_CN: Mapping[str, str] = {
    "title": "您的账户", "hello": "账户名称", "refused": "无法打开此链接",
    "refused_text": "链接可能有误或已过期。请使用我们最新消息中的链接，或与我们联系。",
    "slow_down": "尝试次数过多", "slow_down_text": "请等几分钟后再试。",
    "csrf": "此表单已过期", "csrf_text": "请重新打开您的页面并再操作一次。",
    "owed": "您的欠款", "overdue": "已逾期", "later": "稍后到期", "interest": "利息",
    "fees": "费用", "total": "合计", "pay_with": "付款参考编号", "disputed": "异议中",
    "item": "项目", "due": "到期日", "open": "未付", "disputed_on": "提出异议日期", "nothing_due": "没有应付款项。",
    "promise": "承诺还款", "promise_text": "告诉我们您何时付款（最多自今天起 {days} 天）。",
    "amount": "金额", "pay_by": "还款日期", "send": "提交", "more_time": "申请延期",
    "more_time_text": "需要更长时间？请提出申请，我们会答复您。", "reason": "原因", "plan": "申请分期还款",
    "plan_text": "将欠款分成几次付款（至少两次）。", "instalment": "第几期",
    "dispute": "对某一项提出异议", "dispute_text": "告诉我们哪里有误；核实期间该项暂停催收。",
    "opt_out": "停止某类消息", "opt_out_text": "我们将不再以此方式联系您。",
    "channel": "渠道", "pay": "立即付款", "pay_text": "通过我们的支付合作方以银行卡或银行转账付款。",
    "provider": "支付方式", "no_provider": "暂不支持在线付款；请使用上面的参考编号付款。",
    "error": "未做任何更改。", "done_promise": "谢谢：您的还款承诺已记录。",
    "done_more_time": "您的申请已提交，我们会尽快答复。",
    "done_more_time_now": "谢谢：您的还款承诺已记录。",
    "done_plan": "您的分期申请已提交，我们会尽快答复。", "done_plan_now": "谢谢：您的分期计划已记录。",
    "done_dispute": "您的异议已记录；核实期间该项暂停催收。",
    "done_opt_out": "已完成：我们不会再以此方式联系您。",
    "done_paid": "谢谢：付款确认后将显示在这里。",
    "required": "必填", "settled": "此账户已结清，谢谢。",
    "m_call": "电话", "m_text": "短信", "m_email": "电子邮件", "m_letter": "信件", "m_visit": "上门拜访",
    "continue": "前往付款页面",
    "continue_text": "正在为您转到我们支付合作方的页面。",
}

TABLES: Mapping[str, Mapping[str, str]] = {"en": EN, "zh_CN": ZH_CN}


def words(language: str) -> dict[str, str]:
    """The page's labels for ``language``, English where a label has no translation."""
    return {**EN, **TABLES.get(language, {})}
