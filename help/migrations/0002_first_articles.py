"""The help centre's first articles: the questions customers ask most, in Chinese and English."""

from django.db import migrations

ARTICLES = [
    {
        "slug": "forgot-password",
        "group": "account",
        "ordering": 1,
        "title_zh": "忘记密码怎么办？",
        "title_en": "I forgot my password",
        "body_zh": """在登录页面点击“忘记密码？”，输入注册时使用的邮箱地址，我们会给这个邮箱发送一封重置密码的邮件。

1. 打开邮件，点击里面的链接（链接只能使用一次，过一段时间会失效）。
2. 输入两次新密码并保存。
3. 用新密码登录。

**没有收到重置邮件？** 请先查看垃圾邮件文件夹，并确认输入的是注册时使用的邮箱。本网站用邮箱登录，不能用手机号找回密码。

如果开启了两步验证，重置密码后登录时仍需要输入验证器中的验证码或恢复码。""",
        "body_en": """On the log-in page, tap “Forgot your password?” and enter the email address you signed up with. We send that address an email to reset your password.

1. Open the email and follow the link (it works once and expires after a while).
2. Enter your new password twice and save it.
3. Log in with the new password.

**No reset email?** Look in your spam folder first, and check that you typed the address you signed up with. You log in to this site with your email address; a phone number cannot be used to reset a password.

If you turned on two-factor authentication, logging in after the reset still asks for a code from your authenticator app or a recovery code.""",
    },
    {
        "slug": "no-confirmation-email",
        "group": "account",
        "ordering": 2,
        "title_zh": "没有收到确认邮件怎么办？",
        "title_en": "I did not receive the confirmation email",
        "body_zh": """邮件一般会在一分钟内到达。如果没有收到：

- **查看垃圾邮件或广告邮件文件夹**，并把我们的发件地址加入联系人。
- **检查邮箱地址是否写对**：登录后在“账户”页面可以看到。
- **注册验证邮件**：用注册的邮箱和密码登录一次，我们会重新发送验证邮件。
- **订单就绪邮件**（含二维码和激活码）：不需要等邮件，在订单页面就能直接查看并安装 eSIM；也可以在订单页面点击“重新发送邮件”。

以上都试过仍然没有收到，请联系我们并告诉我们订单号。""",
        "body_en": """Emails usually arrive within a minute. If yours has not:

- **Look in your spam or promotions folder**, and add our sender address to your contacts.
- **Check the address**: it is shown on your Account page once you log in.
- **The sign-up verification email**: log in with the address and password you signed up with, and we send the verification email again.
- **The order-ready email** (with the QR code and activation code): you do not need to wait for it. The order page shows everything you need to install the eSIM, and its “Email me the details again” button sends the email again.

Still nothing after all this? Write to us with your order number.""",
    },
    {
        "slug": "payment-failed",
        "group": "payments",
        "ordering": 1,
        "title_zh": "支付失败怎么办？",
        "title_en": "My payment failed",
        "body_zh": """支付失败时订单不会扣款，您可以在订单页面点击“重试”，再付一次。

请按顺序检查：

1. **网络是否稳定**：支付过程中不要关闭或刷新页面。
2. **卡片信息是否正确**：卡号、有效期、安全码和持卡人姓名。
3. **银行是否拦截**：很多银行默认限制境外或网上支付，请在银行 App 中开通境外支付，或联系发卡行确认限额。
4. **换一种支付方式**：在订单页面选择其他支付方式，例如换一张卡或其他可用的方式。

**钱已经扣了，订单却显示支付失败？** 银行有时会先冻结一笔金额，稍后自动退回。请不要重复支付；把订单号和扣款截图发给我们，我们会核实。""",
        "body_en": """A failed payment takes no money: tap “Try again” on the order page to pay once more.

Check these in order:

1. **Your connection**: do not close or reload the page while paying.
2. **Your card details**: number, expiry date, security code and cardholder name.
3. **Your bank**: many banks block payments abroad or online by default. Allow them in your banking app, or ask your bank about the limit.
4. **Another way to pay**: choose another method on the order page, such as another card.

**Money taken but the order says the payment failed?** Banks sometimes hold an amount and release it later by themselves. Do not pay twice: send us the order number and a screenshot of the charge, and we will check it.""",
    },
    {
        "slug": "no-data-after-installing",
        "group": "installing",
        "ordering": 1,
        "shows_apns": True,
        "title_zh": "安装 eSIM 后没有网络怎么办？",
        "title_en": "No data after installing the eSIM",
        "body_zh": """eSIM 安装好后如果无法上网，请依次检查：

1. **选择这张 eSIM 作为移动数据线路**：iPhone 在“设置 → 蜂窝网络 → 蜂窝数据”；安卓在“设置 → 网络和互联网 → SIM 卡”。
2. **打开数据漫游**：如果在巴基斯坦境内仍提示漫游，请在这张 eSIM 的设置里打开“数据漫游”。
3. **设置 APN（接入点名称）**：多数手机会自动设置；如果没有网络，请按下表填写您的运营商的 APN。iPhone 在“设置 → 蜂窝网络 → 选择这张 eSIM → 蜂窝数据网络”；安卓在“设置 → 网络和互联网 → SIM 卡 → 接入点名称（APN）→ 新建”。
4. **重启手机**，或打开飞行模式十秒后再关闭。
5. **确认套餐在有效期内、流量没有用完**：在“我的套餐”页面可以查看。

请不要删除 eSIM：删除后不能再次安装，只能补卡。""",
        "body_en": """If the eSIM is installed but you have no data, check these in order:

1. **Choose this eSIM for mobile data**: on iPhone, Settings → Mobile Service (or Cellular) → Mobile Data; on Android, Settings → Network & internet → SIMs.
2. **Turn on data roaming**: if the phone still says it is roaming in Pakistan, turn on “Data Roaming” in this eSIM's settings.
3. **Set the APN (access point name)**: most phones set it by themselves; if there is no data, enter your operator's APN from the table below. On iPhone: Settings → Mobile Service → this eSIM → Mobile Data Network. On Android: Settings → Network & internet → SIMs → Access Point Names → Add.
4. **Restart the phone**, or turn on flight mode for ten seconds and off again.
5. **Check that the plan is valid and has data left** on the My SIMs page.

Do not delete the eSIM: a deleted eSIM cannot be installed again and needs a replacement.""",
    },
    {
        "slug": "old-sim-after-replacement",
        "group": "replacement",
        "ordering": 1,
        "title_zh": "新卡激活后旧卡还能用吗？",
        "title_en": "Does the old SIM still work once the new one is active?",
        "body_zh": """不能。补卡后号码不变，新卡激活的那一刻，旧卡就永久停用，不能再上网、打电话或充值，即使找回旧手机也无法恢复。

- 旧卡停用之前，补卡申请不会影响您正在使用的旧卡。
- 如果旧卡是 eSIM，新卡激活后可以在手机设置里删除旧的 eSIM。
- 在“我的套餐”页面，旧卡会显示为“已补卡”。""",
        "body_en": """No. A replacement keeps your number: the moment the new SIM is activated, the old one stops for good. It can no longer use data, make calls or be recharged, even if you find the old phone again.

- Until then, asking for a replacement does not affect the old SIM you are using.
- If the old SIM is an eSIM, you can delete it in the phone's settings once the new one is active.
- On the My SIMs page, the old SIM is shown as replaced.""",
    },
    {
        "slug": "sim-by-post",
        "group": "replacement",
        "ordering": 2,
        "title_zh": "能否邮寄？支持跨地区邮寄吗？",
        "title_en": "Can you send a SIM by post, to another city?",
        "body_zh": """**eSIM 不需要邮寄**：付款后几分钟内，二维码和激活码就会显示在订单页面并发到您的邮箱，在任何地方都能安装。

**实体 SIM 卡补卡**可以邮寄：在补卡申请中填写收件地址，审核通过后我们安排快递，并告诉您快递公司和运单号。巴基斯坦境内各城市一般都可以送达；寄往巴基斯坦以外的地址取决于快递公司和当地规定，请在申请前先联系我们确认。

收到新卡并激活后，旧卡才会停用。""",
        "body_en": """**An eSIM needs no post**: a few minutes after you pay, its QR code and activation code are on the order page and in your email, and you can install it anywhere.

**A replacement physical SIM** can be posted: give a delivery address in the replacement request; once it is approved we send it by courier and tell you the courier and tracking number. Most cities in Pakistan can be reached; an address outside Pakistan depends on the courier and local rules, so please ask us before you apply.

The old SIM stops only when the new one is received and activated.""",
    },
    {
        "slug": "is-my-phone-compatible",
        "group": "buying",
        "ordering": 1,
        "title_zh": "我的手机支持 eSIM 吗？",
        "title_en": "Does my phone support eSIM?",
        "body_zh": """购买 eSIM 套餐前，请确认手机支持 eSIM 并且没有锁网。

- 在手机上拨打 `*#06#`：如果显示 EID，说明支持 eSIM。
- **在中国大陆、香港和澳门购买的大多数 iPhone 使用两张实体 SIM 卡，没有 eSIM**，不能使用我们的 eSIM 套餐。
- 可以在[手机兼容性查询](/help/devices/)中输入手机型号查看。

手机不支持 eSIM？可以给巴基斯坦的实体 SIM 卡充值。""",
        "body_en": """Before you buy an eSIM plan, make sure your phone supports eSIM and is not locked to one operator.

- Dial `*#06#` on the phone: if it shows an EID, it supports eSIM.
- **Most iPhones bought in mainland China, Hong Kong and Macao take two physical SIM cards and have no eSIM**: they cannot use our eSIM plans.
- Type your phone's model in the [phone compatibility check](/help/devices/).

No eSIM on your phone? You can still recharge a Pakistani physical SIM.""",
    },
]


def add_articles(apps, schema_editor):
    Article = apps.get_model("help", "Article")
    for fields in ARTICLES:
        Article.objects.update_or_create(
            slug=fields["slug"],
            defaults={**fields, "is_published": True},
        )


def remove_articles(apps, schema_editor):
    Article = apps.get_model("help", "Article")
    Article.objects.filter(slug__in=[fields["slug"] for fields in ARTICLES]).delete()


class Migration(migrations.Migration):
    dependencies = [("help", "0001_initial")]

    operations = [migrations.RunPython(add_articles, remove_articles)]
