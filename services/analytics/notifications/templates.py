# ruff: noqa: RUF001  (Chinese text takes full-width punctuation)
"""The mails' words, per language: plain text, Chinese and English (a language tag is read
by its first part: "zh-CN" and "zh-Hant" are Chinese; any other, or none, is English).
A template is a subject and a body with `{name}` fields filled from the mail's values;
`items` (a list) is written one per line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Template:
    subject: str
    body: str


TEMPLATES: dict[str, dict[str, Template]] = {
    "en": {
        "webhook_disabled": Template(
            "Your webhook {url} was disabled",
            "Your webhook endpoint kept failing and receives no more deliveries.\n\n"
            "Endpoint: {url} ({webhook_id})\n"
            "Reason: {reason}\n"
            "Disabled at: {disabled_at}\n\n"
            "Fix the endpoint and register it again; the delivery log keeps what it missed.\n",
        ),
        "new_order": Template(
            "New order {order_id} to ship",
            "You have a new order to ship.\n\n"
            "Order: {order_id}\n"
            "Items:\n{items}\n"
            "Total: {total}\n\n"
            "Please hand it over to the carrier by {dispatch_deadline}.\n",
        ),
        "cancellation_requested": Template(
            "The buyer asks to cancel order {order_id}",
            "The buyer asks to cancel order {order_id}.\n\n"
            "Reason: {reason_code}\n"
            "Note: {note}\n\n"
            "Please approve or reject the request by {answer_by}; "
            "after that it is approved automatically.\n",
        ),
        "aftersales_requested": Template(
            "After-sales request on order {order_id}: please answer by {answer_by}",
            "The buyer opened an after-sales request.\n\n"
            "Order: {order_id}\n"
            "Request: {request_id}\n"
            "Type: {type}\n"
            "Reason: {reason_code}\n"
            "Refund asked: {refund}\n\n"
            "Please approve or reject it by {answer_by}; "
            "after that it is approved automatically.\n",
        ),
        "shipped": Template(
            "Your order {order_id} is on its way",
            "Your order {order_id} has been handed to {carrier}.\n\n"
            "Tracking number: {tracking_number}\n"
            "Estimated delivery: by {estimated_delivery}\n",
        ),
        "delivered": Template(
            "Your order {order_id} was delivered",
            "Your parcel {tracking_number} of order {order_id} was delivered at "
            "{delivered_at}.\n\n"
            "If something is wrong with it, you can open an after-sales request.\n",
        ),
        "aftersales_approved": Template(
            "Your after-sales request on order {order_id} was approved",
            "Your after-sales request {request_id} on order {order_id} was approved.\n\n"
            "We will tell you about the next step.\n",
        ),
        "aftersales_rejected": Template(
            "Your after-sales request on order {order_id} was rejected",
            "Your after-sales request {request_id} on order {order_id} was rejected.\n\n"
            "Reason: {reason}\n\n"
            "If you disagree, you can ask the platform to decide (escalate).\n",
        ),
    },
    "zh": {
        "webhook_disabled": Template(
            "您的 Webhook {url} 已停用",
            "您的 Webhook 端点持续失败，已不再接收推送。\n\n"
            "端点：{url}（{webhook_id}）\n"
            "原因：{reason}\n"
            "停用时间：{disabled_at}\n\n"
            "请修复端点后重新注册；推送记录中保留了未送达的事件。\n",
        ),
        "new_order": Template(
            "新订单 {order_id} 待发货",
            "您有一个新订单待发货。\n\n"
            "订单号：{order_id}\n"
            "商品：\n{items}\n"
            "合计：{total}\n\n"
            "请在 {dispatch_deadline} 前交给承运商。\n",
        ),
        "cancellation_requested": Template(
            "买家申请取消订单 {order_id}",
            "买家申请取消订单 {order_id}。\n\n"
            "原因：{reason_code}\n"
            "备注：{note}\n\n"
            "请在 {answer_by} 前同意或拒绝，逾期将自动同意。\n",
        ),
        "aftersales_requested": Template(
            "订单 {order_id} 的售后申请，请在 {answer_by} 前处理",
            "买家提交了售后申请。\n\n"
            "订单号：{order_id}\n"
            "申请编号：{request_id}\n"
            "类型：{type}\n"
            "原因：{reason_code}\n"
            "申请退款：{refund}\n\n"
            "请在 {answer_by} 前同意或拒绝，逾期将自动同意。\n",
        ),
        "shipped": Template(
            "您的订单 {order_id} 已发货",
            "您的订单 {order_id} 已交给 {carrier}。\n\n"
            "运单号：{tracking_number}\n"
            "预计送达：{estimated_delivery} 前\n",
        ),
        "delivered": Template(
            "您的订单 {order_id} 已送达",
            "订单 {order_id} 的包裹 {tracking_number} 已于 {delivered_at} 送达。\n\n"
            "如有问题，可以提交售后申请。\n",
        ),
        "aftersales_approved": Template(
            "您在订单 {order_id} 的售后申请已通过",
            "您在订单 {order_id} 的售后申请 {request_id} 已通过。\n\n后续步骤我们会再通知您。\n",
        ),
        "aftersales_rejected": Template(
            "您在订单 {order_id} 的售后申请被拒绝",
            "您在订单 {order_id} 的售后申请 {request_id} 被拒绝。\n\n"
            "原因：{reason}\n\n"
            "如有异议，可申请平台介入。\n",
        ),
    },
}


def language_of(tag: str | None) -> str:
    """The templates' language for a BCP 47 tag: its first part if we have it, else English."""
    primary = (tag or "").split("-")[0].lower()
    return primary if primary in TEMPLATES else DEFAULT_LANGUAGE


def render(template: str, language: str | None, params: dict[str, Any]) -> tuple[str, str]:
    """The subject and plain-text body of `template` in the recipient's language."""
    chosen = TEMPLATES[language_of(language)][template]
    values = {
        k: "\n".join(f"  - {line}" for line in v) if isinstance(v, list) else v
        for k, v in params.items()
    }
    return chosen.subject.format(**values), chosen.body.format(**values)
