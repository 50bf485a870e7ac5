"""Fill empty Simplified Chinese entries of locale/zh_Hans/LC_MESSAGES/django.po from this table.

Run after ``manage.py makemessages -l zh_Hans``; then ``manage.py compilemessages``.
"""

import json
from pathlib import Path

import polib

ZH_HANS = {
    "email address": "电子邮箱",
    "phone number": "手机号码",
    "user": "用户",
    "users": "用户",
    "Standard": "标准",
    "Silver": "白银",
    "Gold": "黄金",
    "Currency of the wallet and of partner prices.": "钱包及合作伙伴价格所用币种。",
    "CNIC": "巴基斯坦身份证 (CNIC)",
    "Passport": "护照",
    "Waiting for review": "等待审核",
    "Approved": "已通过",
    "Rejected": "已拒绝",
    "Withdrawn": "已撤回",
    "Document front": "证件正面",
    "Document back": "证件背面",
    "Selfie holding the document": "手持证件自拍",
    "Test gateway": "测试支付通道",
    "Upstream provider": "上游供应商",
    "New eSIM": "新购 eSIM",
    "Renewal": "续费",
    "Recharge": "充值",
    "Replacement": "补卡",
    "Created": "已创建",
    "Awaiting payment": "待支付",
    "Paid": "已支付",
    "Being set up": "开通中",
    "Ready": "已就绪",
    "Payment failed": "支付失败",
    "Needs attention": "需人工处理",
    "Cancelled": "已取消",
    "Refunded": "已退款",
    "The SIM renewed or replaced.": "被续费或补卡的 SIM 卡。",
    "Test payments": "测试支付",
    "Manual (bank transfer, JazzCash, Easypaisa)": "人工支付（银行转账、JazzCash、Easypaisa）",
    "Partner wallet": "合作伙伴钱包",
    "Pending": "处理中",
    "Succeeded": "成功",
    "Failed": "失败",
    "card, alipay, jazzcash, …": "银行卡、支付宝、JazzCash……",
    "The gateway's id: Stripe session, bank reference, wallet entry.": "支付通道的编号：Stripe 会话、银行流水号或钱包记录。",
    "Lost phone": "手机丢失",
    "Stolen phone": "手机被盗",
    "Damaged phone or SIM": "手机或 SIM 卡损坏",
    "New phone": "更换新手机",
    "Submitted": "已提交",
    "New SIM issued": "新卡已发放",
    "eSIM": "eSIM",
    "Physical SIM": "实体 SIM 卡",
    "Ready to install": "待安装",
    "Active": "使用中",
    "Expired": "已过期",
    "Replaced": "已补卡",
    "Issue eSIM": "开通 eSIM",
    "Renew": "续费",
    "Cancel": "取消",
    "In progress": "进行中",
    "Temporary error": "临时错误",
    "Permanent error": "永久错误",
    "Top-up": "充值",
    "Order": "订单",
    "Order credited back": "订单退回",
    "Refund": "退款",
    "Adjustment": "调整",
    "Positive credits the wallet, negative debits it.": "正数为入账，负数为扣款。",
    "APN, if phones need it set.": "APN（如手机需要手动设置）。",
    "Sandbox (built in)": "沙盒（内置）",
    "Non-secret options; secrets come from env.": "非机密选项；密钥来自环境变量。",
    "eSIM plan": "eSIM 套餐",
    "eSIM renewal": "eSIM 续费",
    "Physical SIM recharge": "实体卡充值",
    "Daily": "日包",
    "Weekly": "周包",
    "Monthly": "月包",
    "Yearly": "年包",
    "No expiry": "不限期",
    "Empty: no data.": "留空：不含流量。",
    "Airtime credited by a recharge, in PKR.": "充值到账的话费（卢比）。",
    "Negative for a markup.": "负数表示加价。",
    "all plans": "全部套餐",
    "Non-user actors: 'worker', 'partner:acme', …": "非用户操作者：'worker'、'partner:acme' 等",
    "Pakistani rupee": "巴基斯坦卢比",
    "US dollar": "美元",
    "Chinese yuan": "人民币",
    "Pakistan eSIM & recharge": "巴基斯坦 eSIM 与充值",
    "Test mode: payments are simulated and no money moves.": "测试模式：支付为模拟，不会产生真实扣款。",
    "Pakistan eSIM": "巴基斯坦 eSIM",
    "Language": "语言",
    "Change": "切换",
    "Need help? Write to %(support_email)s": "需要帮助？请发邮件至 %(support_email)s",
    "Mobile data for Pakistan": "巴基斯坦手机流量",
    "Buy an eSIM, renew before it runs out, or recharge a SIM by phone number.": "购买 eSIM，到期前续费，或按手机号为 SIM 卡充值。",
    "An ICCID contains digits only.": "ICCID 只能包含数字。",
    "An ICCID has %(min)d to %(max)d digits.": "ICCID 应为 %(min)d 到 %(max)d 位数字。",
    "This ICCID's check digit is wrong.": "ICCID 校验位不正确。",
    "Enter a valid phone number in international form, e.g. +923001234567.": "请输入国际格式的有效手机号，例如 +923001234567。",
    "Enter a Pakistani mobile number, e.g. 0300 1234567.": "请输入巴基斯坦手机号，例如 0300 1234567。",
    "The upstream's order or operator transaction id.": "上游订单号或运营商交易号。",
    "A paid order is refunded, not cancelled.": "已支付的订单只能退款，不能取消。",
    "This payment method is not available.": "该支付方式暂不可用。",
    "Enter the reference of your payment.": "请输入您的付款流水号。",
    "This order is already paid or closed.": "该订单已支付或已关闭。",
    "Payment could not be started. Try again.": "无法发起支付，请重试。",
    "Choose a currency.": "请选择币种。",
    "This plan cannot be bought for this order.": "该套餐不能用于此订单。",
    "Choose a quantity between 1 and %d.": "请选择 1 到 %d 之间的数量。",
    "SIM not found.": "未找到该 SIM 卡。",
    "This SIM can no longer be renewed.": "该 SIM 卡已无法续费。",
    "This plan does not fit this SIM.": "该套餐不适用于此 SIM 卡。",
    "This plan is for another operator.": "该套餐属于其他运营商。",
    "This plan is not sold in %s.": "该套餐不支持以 %s 购买。",
    "This promotion code is not valid.": "优惠码无效。",
    "This promotion code has been used up.": "优惠码已被用完。",
    "This promotion code applies to payments in %s.": "该优惠码仅适用于以 %s 支付的订单。",
    "This order has no payment that can be refunded.": "该订单没有可退款的付款。",
    "Refund between 0 and %(remaining)s.": "退款金额应大于 0 且不超过 %(remaining)s。",
    "The refund did not go through: %s": "退款未成功：%s",
    "Not enough wallet balance: %(total)s %(currency)s needed.": "钱包余额不足：需要 %(total)s %(currency)s。",
    "Give a reason for the wallet change.": "请填写钱包变动原因。",
    "The amount cannot be zero.": "金额不能为零。",
    "Your order %(number)s is ready.": "您的订单 %(number)s 已就绪。",
    "Plan": "套餐",
    "Activation code": "激活码",
    "SM-DP+ address": "SM-DP+ 地址",
    "Confirmation code": "确认码",
    "Install on iPhone (iOS 17.4 or later)": "在 iPhone 上一键安装（iOS 17.4 及以上）",
    "Install on Android": "在安卓手机上一键安装",
    "Valid until": "有效期至",
    "Your SIM now expires on": "您的 SIM 卡有效期现至",
    "%(number)s has been recharged. Operator reference: %(reference)s.": "%(number)s 已充值成功。运营商流水号：%(reference)s。",
    "Test checkout": "测试收银台",
    "No real money moves here. Choose what the payment should do.": "此处不会产生真实扣款。请选择这笔支付的结果。",
    "Amount": "金额",
    "Status": "状态",
    "Pay": "支付",
    "Fail the payment": "让支付失败",
    "Pay later (bank confirms afterwards)": "稍后支付（银行稍后确认）",
    "Bank confirms the payment": "银行确认付款",
    "Bank rejects the payment": "银行拒绝付款",
    "Questions? Write to %(support_email)s.": "有疑问？请发邮件至 %(support_email)s。",
    "Renew eSIM": "eSIM 续费",
    "Cancel eSIM": "注销 eSIM",
    "Empty: unlimited; 0: no data.": "留空：不限流量；0：不含流量。",
}

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
GLOSSARY_DIR = ROOT / "locale/glossary"


def glossary() -> dict[str, str]:
    """The table above plus every ``locale/glossary/*.json`` file ({English: Chinese})."""
    table = dict(ZH_HANS)
    for path in sorted(GLOSSARY_DIR.glob("*.json")):
        table.update(json.loads(path.read_text(encoding="utf-8")))
    return table


def main() -> None:
    catalog = polib.pofile(str(PO_FILE))
    catalog.metadata_is_fuzzy = False
    catalog.header = "Simplified Chinese translation of the Pakistan eSIM portal."
    catalog.metadata.update(
        {
            "Project-Id-Version": "sim-reseller-portal",
            "Language": "zh_Hans",
            "Language-Team": "zh-Hans",
            "Last-Translator": "Portal team",
        }
    )
    table = glossary()
    for entry in catalog:
        if entry.msgid in table:
            entry.previous_msgid = None
            entry.msgstr = table[entry.msgid]
            if entry.fuzzy:
                entry.flags.remove("fuzzy")
    catalog.save()
    missing = [e.msgid for e in catalog if (not e.msgstr or e.fuzzy) and not e.obsolete]
    print(f"{len(catalog)} entries, {len(missing)} untranslated")
    for msgid in missing:
        print("  missing:", msgid)


if __name__ == "__main__":
    main()
