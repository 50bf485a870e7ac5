"""The list of eSIM phones starts with the common models and where their versions lack eSIM."""

from django.db import migrations

CN, HK, MO = "CN", "HK", "MO"
IPHONE_NOTE = (
    "在中国大陆、香港和澳门购买的版本使用两张实体 SIM 卡，没有 eSIM。",
    "Versions bought in mainland China, Hong Kong and Macao take two physical SIM cards and have no eSIM.",
)
SMALL_IPHONE_NOTE = (
    "在中国大陆购买的版本没有 eSIM；香港和澳门版本支持 eSIM。",
    "Versions bought in mainland China have no eSIM; Hong Kong and Macao versions support eSIM.",
)
CHINA_NOTE = (
    "中国大陆版本没有 eSIM，请购买前确认手机的销售地区。",
    "Mainland China versions have no eSIM: check where your phone was sold before you buy.",
)
PIXEL_NOTE = ("", "")

# brand, other names, [(model, regions without eSIM, notes)]
DEVICES = [
    (
        "Apple",
        "苹果 iPhone",
        [(model, [CN, HK, MO], IPHONE_NOTE) for model in (
            "iPhone XR", "iPhone XS Max", "iPhone 11", "iPhone 11 Pro", "iPhone 11 Pro Max",
            "iPhone 12", "iPhone 12 Pro", "iPhone 12 Pro Max", "iPhone 13", "iPhone 13 Pro",
            "iPhone 13 Pro Max", "iPhone 14", "iPhone 14 Plus", "iPhone 14 Pro",
            "iPhone 14 Pro Max", "iPhone 15", "iPhone 15 Plus", "iPhone 15 Pro",
            "iPhone 15 Pro Max", "iPhone 16", "iPhone 16 Plus", "iPhone 16 Pro",
            "iPhone 16 Pro Max", "iPhone 16e",
        )]
        + [(model, [CN], SMALL_IPHONE_NOTE) for model in (
            "iPhone XS", "iPhone 12 mini", "iPhone 13 mini", "iPhone SE (2nd generation)",
            "iPhone SE (3rd generation)",
        )],
    ),
    (
        "Samsung",
        "三星 Galaxy",
        [(model, [CN], CHINA_NOTE) for model in (
            "Galaxy S20", "Galaxy S20+", "Galaxy S20 Ultra", "Galaxy S21", "Galaxy S21+",
            "Galaxy S21 Ultra", "Galaxy S22", "Galaxy S22+", "Galaxy S22 Ultra", "Galaxy S23",
            "Galaxy S23+", "Galaxy S23 Ultra", "Galaxy S24", "Galaxy S24+", "Galaxy S24 Ultra",
            "Galaxy S25", "Galaxy S25+", "Galaxy S25 Ultra", "Galaxy Z Flip3", "Galaxy Z Flip4",
            "Galaxy Z Flip5", "Galaxy Z Flip6", "Galaxy Z Fold3", "Galaxy Z Fold4",
            "Galaxy Z Fold5", "Galaxy Z Fold6",
        )],
    ),
    (
        "Google",
        "谷歌",
        [(model, [], PIXEL_NOTE) for model in (
            "Pixel 4", "Pixel 4a", "Pixel 5", "Pixel 5a", "Pixel 6", "Pixel 6 Pro", "Pixel 6a",
            "Pixel 7", "Pixel 7 Pro", "Pixel 7a", "Pixel 8", "Pixel 8 Pro", "Pixel 8a", "Pixel 9",
            "Pixel 9 Pro", "Pixel 9 Pro XL",
        )],
    ),
    (
        "Huawei",
        "华为",
        [(model, [CN], CHINA_NOTE) for model in ("P40", "P40 Pro", "Mate 40 Pro")],
    ),
    (
        "Xiaomi",
        "小米",
        [(model, [CN], CHINA_NOTE) for model in (
            "Xiaomi 12T Pro", "Xiaomi 13 Lite", "Xiaomi 13T", "Xiaomi 13T Pro", "Xiaomi 14",
            "Xiaomi 14T", "Xiaomi 14T Pro",
        )],
    ),
    (
        "OPPO",
        "欧珀",
        [(model, [CN], CHINA_NOTE) for model in ("Find X3 Pro", "Find X5", "Find X5 Pro")],
    ),
]


def add_devices(apps, schema_editor):
    Device = apps.get_model("help", "Device")
    for brand, aliases, models in DEVICES:
        for model, regions, (notes_zh, notes_en) in models:
            Device.objects.update_or_create(
                brand=brand,
                model=model,
                defaults={
                    "aliases": aliases,
                    "lacks_esim_in": regions,
                    "notes_zh": notes_zh,
                    "notes_en": notes_en,
                },
            )


def remove_devices(apps, schema_editor):
    Device = apps.get_model("help", "Device")
    for brand, _aliases, models in DEVICES:
        Device.objects.filter(brand=brand, model__in=[row[0] for row in models]).delete()


class Migration(migrations.Migration):
    dependencies = [("help", "0002_first_articles")]

    operations = [migrations.RunPython(add_devices, remove_devices)]
