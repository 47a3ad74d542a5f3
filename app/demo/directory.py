"""Demo 一单两库 for Dongsheng: areas, six items, fourteen inspectors, forty-one water users with
valid codes. Deterministic: every value comes from the tables below (codes are derived from the
names), only dates follow today's year. Idempotent: rows are found by area name, item code,
certificate number and USCC / ID number (a 建设项目 without a code by its name)."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select

from app.core.identifiers import USCC, CitizenID
from app.directory import services
from app.directory.models import (
    DONGSHENG_AREAS,
    Area,
    InspectionItem,
    Inspector,
    Target,
)
from app.extensions import db

ITEMS = [
    # code, dept, category, name, targets, class, method, legal basis, ratio, frequency, publish
    (
        "DSSL-SZY-001",
        "SZYK",
        "水资源管理",
        "取水许可制度执行情况检查",
        "取水单位",
        "重点",
        "实地检查、书面检查",
        "《中华人民共和国水法》第四十八条；《取水许可和水资源费征收管理条例》第四十八条",
        "5",
        "每年1次",
        True,
    ),
    (
        "DSSL-SZY-002",
        "SZYK",
        "节约用水",
        "用水单位计划用水执行情况检查",
        "用水大户",
        "一般",
        "书面检查",
        "《节约用水条例》第二十一条；《内蒙古自治区节约用水条例》",
        "10",
        "每年1次",
        True,
    ),
    (
        "DSSL-HH-001",
        "HHK",
        "河湖管理",
        "河道管理范围内建设项目检查",
        "建设单位",
        "一般",
        "实地检查",
        "《中华人民共和国河道管理条例》第十一条",
        "5",
        "每年1次",
        True,
    ),
    (
        "DSSL-HH-002",
        "HHK",
        "河湖管理",
        "河道采砂许可执行情况检查",
        "采砂单位",
        "重点",
        "实地检查",
        "《中华人民共和国水法》第三十九条；《内蒙古自治区河道采砂管理办法》",
        "20",
        "每年2次",
        True,
    ),
    (
        "DSSL-STBC-001",
        "STBC",
        "水土保持",
        "生产建设项目水土保持方案实施情况检查",
        "生产建设单位",
        "重点",
        "实地检查、书面检查",
        "《中华人民共和国水土保持法》第四十三条",
        "10",
        "每年1次",
        True,
    ),
    (
        "DSSL-ZA-001",
        "ZAJDZ",
        "水利工程质量安全",
        "水利工程建设质量与安全生产检查",
        "水利工程建设单位",
        "重点",
        "实地检查",
        "",
        "15",
        "每年1次",
        False,
    ),
]

# Certificates run to 31 December of (this year + years): every one is valid today.
# fmt: off
INSPECTORS = [
    # name, gender, dept, post, certificate, years valid, specialties, status, user, phone
    ("王建国", "男", "SZYK", "科长", "15060201001", 3, "水资源、节约用水", "在岗", "inspector_wang", "13847731026"),
    ("李海涛", "男", "HHK", "副科长", "15060201002", 2, "河湖管理", "在岗", "inspector_li", "13947785913"),
    ("张伟", "男", "ZFDD", "队长", "15060201003", 4, "水政执法、河湖管理", "在岗", "inspector_zhang", "15047705528"),
    ("苏日娜", "女", "SZYK", "科员", "15060201004", 1, "水资源", "在岗", None, "13789401637"),
    # On leave for a training course: the draw lists him as excluded (status), not drawn.
    ("贺永军", "男", "SZYK", "科员", "15060201005", 2, "节约用水", "离岗", None, "18647792204"),
    ("高慧敏", "女", "HHK", "科员", "15060201006", 2, "河湖管理", "在岗", None, "13614773380"),
    ("额尔敦毕力格", "男", "STBC", "站长", "15060201007", 3, "水土保持", "在岗", None, "13404879215"),
    ("武晓燕", "女", "STBC", "技术员", "15060201008", 2, "水土保持", "离岗", None, "15849760213"),
    ("杜志刚", "男", "ZAJDZ", "站长", "15060201009", 5, "水利工程质量安全", "在岗", None, "13848670452"),
    ("乔丽萍", "女", "ZAJDZ", "工程师", "15060201010", 2, "水利工程质量安全", "在岗", None, "18247712698"),
    ("白海龙", "男", "ZFDD", "执法员", "15060201011", 3, "水政执法", "在岗", None, "13704773167"),
    ("刘玉梅", "女", "ZFDD", "执法员", "15060201012", 1, "水政执法、水资源", "调离", None, "13947752840"),
    ("奇志强", "男", "STBC", "工程师", "15060201013", 2, "水土保持", "在岗", None, "15149439671"),
    ("韩雪峰", "男", "HHK", "科员", "15060201014", 3, "河湖管理、水政执法", "在岗", None, "13848791350"),
]
# fmt: on


# The targets of each department: the water users a district bureau supervises. Addresses name
# the 街道 / 镇 the target is filed under (the area table's names). Codes are made from the name
# (see uscc_for), so every machine gets the same valid codes.
# kind, name, industry, area, address after the area, legal representative, contact person,
# contact phone, risk class, flags, registration status, inspected last year
# fmt: off
TARGETS = {
    "SZYK": [
        ("企业", "鄂尔多斯市东胜区供排水有限责任公司", "取水单位", "交通街道", "伊金霍洛西街18号", "郝利军", "杨春华", "0477-8321567", "B", None, "存续", True),
        ("企业", "鄂尔多斯市瑞丰热电有限责任公司", "取水单位", "罕台镇", "罕台村工业园区纬三路6号", "王志宏", "贾文斌", "13904778325", "B", None, "存续", False),
        ("企业", "内蒙古鑫泰源煤业有限责任公司", "取水单位", "铜川镇", "碾盘梁村", "贺永平", "孙建军", "13847790216", "C", None, "存续", True),
        ("企业", "鄂尔多斯市恒润洗煤有限公司", "取水单位", "泊江海镇", "海子湾村", "刘占军", "刘文华", "15148776102", "C", "投诉举报多", "存续", False),
        ("其他组织", "鄂尔多斯市东胜区罕台镇灶火壕村股份经济合作社", "取水单位", "罕台镇", "灶火壕村村委会", "张二平", "张二平", "13474679318", "A", None, "存续", False),
        ("企业", "鄂尔多斯市天骄国际酒店管理有限公司", "用水大户", "天骄街道", "天骄北路36号", "白云峰", "乔慧芳", "0477-8599012", "B", None, "存续", True),
        ("其他组织", "鄂尔多斯市东胜区第一中学", "用水大户", "林荫街道", "林荫路12号", "杜文斌", "高俊峰", "0477-8327740", "A", None, "存续", False),
        ("企业", "鄂尔多斯市蒙欣乳业有限公司", "用水大户", "纺织街道", "罕台大街南侧纺织工业园", "奇海军", "武慧琴", "13947706581", "D", "失信", "存续", False),
        ("企业", "鄂尔多斯市金泉纯净水有限公司", "取水单位", "幸福街道", "吉劳庆南路9号", "边宏伟", "边宏伟", "13664779023", "B", None, "注销", False),
        ("个体工商户", "东胜区建设街道清源洗车行", "用水大户", "建设街道", "宝日陶亥东街58号", "韩二虎", "韩二虎", "18204772619", "C", None, "存续", False),
        ("自然人", "郝永平", "取水单位", "罕台镇", "九成功村三社", None, "郝永平", "13500673284", "B", None, "存续", False),
    ],
    "HHK": [
        ("企业", "鄂尔多斯市永顺砂石料有限公司", "河道采砂", "铜川镇", "添漫梁村罕台川右岸", "李金花", "薛东升", "13947780451", "C", None, "存续", True),
        ("企业", "鄂尔多斯市川达建材有限责任公司", "河道采砂", "泊江海镇", "漫赖村", "陈瑞芳", "王海军", "15004772938", "D", "严重违法记录", "存续", False),
        ("个体工商户", "东胜区铜川镇宏达砂石经营部", "河道采砂", "铜川镇", "枳机塔村", "孟根其其格", "孟根其其格", "13848508760", "C", None, "存续", False),
        ("企业", "鄂尔多斯市东城市政工程有限公司", "生产建设项目", "诃额伦街道", "诃额伦路77号", "石建平", "任丽娜", "0477-8581236", "B", None, "存续", False),
        ("企业", "内蒙古鄂东路桥建设有限公司", "生产建设项目", "巴音门克街道", "准格尔北路20号", "牛志军", "康晓东", "13804775690", "B", None, "存续", True),
        ("其他组织", "鄂尔多斯市东胜区塔拉沟水库管理所", "水利工程管理单位", "泊江海镇", "塔拉沟村", "云飞", "刘建新", "0477-8670215", "A", None, "存续", False),
        ("其他组织", "鄂尔多斯市东胜区哈什拉川堤防管理站", "水利工程管理单位", "兴胜街道", "兴胜路3号", "樊永强", "樊永强", "0477-8396108", "A", None, "存续", False),
        ("企业", "鄂尔多斯市鸿泰房地产开发有限公司", "生产建设项目", "富兴街道", "富兴北路101号", "吕俊", "曹燕", "13347706213", "B", None, "吊销", False),
        ("企业", "内蒙古源森土石方工程有限公司", "河道采砂", "罕台镇", "布日都梁村", "段建华", "殷文亮", "13488570392", "C", "投诉举报多", "存续", False),
        ("自然人", "白永军", "河道采砂", "铜川镇", "碾盘梁村二社", None, "白永军", "15894773106", "C", None, "存续", False),
    ],
    "STBC": [
        ("企业", "内蒙古鄂尔多斯东胜光伏发电有限公司", "生产建设项目", "罕台镇", "罕台村光伏产业园", "苗春生", "邬晓宇", "13614778830", "B", None, "存续", True),
        ("企业", "鄂尔多斯市昊远矿业有限公司", "生产建设项目", "泊江海镇", "柴登村露天煤矿", "侯振华", "霍建国", "13947731894", "C", None, "存续", False),
        ("企业", "鄂尔多斯市金地和园房地产开发有限公司", "生产建设项目", "民族街道", "民族街北侧金地和园项目部", "尚海燕", "冯志飞", "0477-8512379", "B", None, "存续", False),
        ("企业", "内蒙古东兴公路建设开发有限公司", "生产建设项目", "铜川镇", "国道210线铜川段项目部", "贾永胜", "魏天宇", "13804778126", "B", None, "存续", False),
        ("建设项目", "东胜区城市综合管廊二期工程", "生产建设项目", "公园街道", "鄂尔多斯西街与天骄南路交叉口", "赵永刚", "马俊", "0477-8355902", "B", None, "存续", False),
        ("企业", "鄂尔多斯市华誉新材料有限公司", "生产建设项目", "纺织街道", "纺织工业园经三路", "潘东亮", "赵晓丽", "15147793320", "C", "失信", "存续", False),
        ("个体工商户", "东胜区罕台镇金土地土石方工程部", "生产建设项目", "罕台镇", "九成功村", "乔占明", "乔占明", "13754079815", "D", None, "存续", False),
        ("企业", "鄂尔多斯市蒙源物流园区开发有限公司", "生产建设项目", "幸福街道", "吉劳庆北路物流园", "温建伟", "张丽君", "13500678817", "B", None, "存续", True),
        ("企业", "鄂尔多斯市兴盛达再生资源利用有限公司", "生产建设项目", "兴胜街道", "兴胜路12号", "杨志明", "刘晓霞", "0477-8398820", "A", None, "存续", False),
        ("自然人", "王利平", "生产建设项目", "泊江海镇", "海子湾村四社", None, "王利平", "13848780541", "C", None, "存续", False),
    ],
    "ZAJDZ": [
        ("企业", "鄂尔多斯市东胜区水务投资有限公司", "水利工程建设单位", "建设街道", "达拉特南路16号", "高志国", "李俊杰", "0477-8378321", "A", None, "存续", True),
        ("企业", "内蒙古禹丰水利建设工程有限公司", "水利工程建设单位", "天骄街道", "天骄南路88号", "秦晓峰", "任慧", "13947721659", "B", None, "存续", False),
        ("企业", "鄂尔多斯市润东水利工程有限公司", "水利工程建设单位", "公园街道", "鄂尔多斯东街31号", "闫海波", "王雪梅", "13674773201", "B", None, "存续", False),
        ("建设项目", "东胜区再生水利用工程", "水利工程建设单位", "巴音门克街道", "东胜区第二污水处理厂东侧", "高志国", "高志国", "0477-8378321", "B", None, "存续", False),
        ("企业", "鄂尔多斯市恒泰建筑安装有限责任公司", "水利工程建设单位", "交通街道", "鄂尔多斯西街56号", "郭永红", "池文博", "15049766721", "C", None, "存续", False),
        ("企业", "内蒙古青城水利水电勘测设计有限公司", "水利工程建设单位", "林荫街道", "林荫路北段23号", "呼和", "田雨", "18947793316", "B", None, "存续", False),
        ("建设项目", "罕台镇高效节水灌溉工程", "水利工程建设单位", "罕台镇", "灶火壕村、九成功村", "刘海平", "张建军", "0477-8690133", "C", None, "存续", False),
        ("企业", "鄂尔多斯市宏源管道安装有限公司", "水利工程建设单位", "富兴街道", "富兴南路7号", "包文军", "包文军", "13404773998", "D", "投诉举报多", "存续", False),
        ("个体工商户", "东胜区诃额伦街道兴旺水暖建材经营部", "水利工程建设单位", "诃额伦街道", "诃额伦路135号", "赵志刚", "赵志刚", "13644773205", "C", None, "存续", False),
        ("企业", "鄂尔多斯市瀚海工程检测有限公司", "水利工程建设单位", "民族街道", "民族东街19号", "宋宏亮", "吴霞", "15354776017", "B", None, "存续", False),
    ],
}
# fmt: on

# Kind -> the first two characters of the code: 9 1 enterprise, 9 2 individual business,
# 1 2 public institution, N 2 rural collective economic organisation (GB 32100-2015).
USCC_PREFIX = {"企业": "91", "个体工商户": "92"}
OTHER_ORG_PREFIX = {"股份经济合作社": "N2"}
DONGSHENG = "150602"  # the administrative division code of 东胜区


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:16], "big")


def _organisation_code(n: int) -> str:
    """A 9-character organisation code (GB 11714) with its own check character."""
    body = f"{n % 10**8:08d}"
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def uscc_for(kind: str, name: str) -> str:
    """The demo code of a target: derived from its name (the same on every machine), with a
    correct check character (USCC.calc_check_digit). Enterprises registered since 2015 get
    the MA… subject code; public institutions and collectives an organisation code."""
    n = _digest(name)
    if kind in USCC_PREFIX:
        alphabet = USCC.ALPHABET
        subject = "MA0" + "".join(alphabet[(n >> (5 * i)) % len(alphabet)] for i in range(6))
        body = USCC_PREFIX[kind] + DONGSHENG + subject
    else:
        prefix = next((p for word, p in OTHER_ORG_PREFIX.items() if word in name), "12")
        body = prefix + DONGSHENG + _organisation_code(n)
    return body + USCC.calc_check_digit(body)


def citizen_id_for(name: str) -> str:
    """A citizen ID of 东胜区 with a valid birth date and check character, from the name."""
    n = _digest(name)
    born = dt.date(1962, 1, 1) + dt.timedelta(days=n % (30 * 365))
    body = f"{DONGSHENG}{born:%Y%m%d}{(n >> 20) % 1000:03d}"
    return body + CitizenID.calc_check_digit(body)


def demo_targets() -> list[dict]:
    """The demo targets as column values (no session needed): the same list on every machine."""
    rows = []
    for dept, targets in TARGETS.items():
        for (
            kind,
            name,
            industry,
            area,
            street,
            legal,
            contact,
            phone,
            risk,
            flags,
            status,
            seen,
        ) in targets:
            natural = kind == "自然人"
            rows.append(
                dict(
                    dept=dept,
                    target_type=kind,
                    name=name,
                    uscc=None if natural or kind == "建设项目" else uscc_for(kind, name),
                    id_number=citizen_id_for(name) if natural else None,
                    legal_representative=legal,
                    contact_person=contact,
                    contact_phone=phone,
                    address=f"鄂尔多斯市东胜区{area}{street}",
                    area=area,
                    industry=industry,
                    registration_status=status,
                    risk_class=risk,
                    flags=flags,
                    inspected_last_year=seen,
                )
            )
    return rows


def seed_directory(departments: dict, users: dict, leader) -> None:
    today = dt.date.today()
    areas = {a.name: a for a in db.session.scalars(select(Area))}
    for order, (name, kind) in enumerate(DONGSHENG_AREAS):
        if name not in areas:
            areas[name] = Area(name=name, kind=kind, sort_order=order * 10)
            db.session.add(areas[name])
    db.session.flush()

    items = {i.code: i for i in db.session.scalars(select(InspectionItem))}
    for code, dept, category, name, targets, klass, method, basis, ratio, freq, publish in ITEMS:
        if code in items:
            continue
        item = InspectionItem(
            code=code,
            department=departments[dept],
            category=category,
            name=name,
            target_type=targets,
            item_class=klass,
            method=method,
            inspecting_body="东胜区水利局",
            legal_basis=basis or None,
            sampling_ratio=ratio,
            frequency=freq,
        )
        services.check_item_values(item)
        db.session.add(item)
        if publish:
            services.publish_item(item, user=leader)
        items[code] = item
    db.session.flush()

    known = set(db.session.scalars(select(Inspector.certificate_no)))
    for name, gender, dept, post, cert, years, specs, status, username, phone in INSPECTORS:
        if cert in known:
            continue
        inspector = Inspector(
            name=name,
            gender=gender,
            department=departments[dept],
            post=post,
            certificate_no=cert,
            certificate_expiry=dt.date(today.year + years, 12, 31),
            specialties=specs,
            status=status,
            phone=phone,
            user_id=users[username].id if username and username in users else None,
        )
        services.check_inspector(inspector)
        db.session.add(inspector)
    db.session.flush()

    known_codes = set(db.session.scalars(select(Target.uscc))) | set(
        db.session.scalars(select(Target.id_number))
    )
    known_names = set(db.session.scalars(select(Target.name)))
    for row in demo_targets():
        key = row["uscc"] or row["id_number"]
        if (key in known_codes) if key else (row["name"] in known_names):
            continue
        dept = departments[row["dept"]]
        dept_items = [
            i for i in items.values() if i.department_id == dept.id and i.status == "published"
        ]
        target = Target(
            department=dept,
            target_type=row["target_type"],
            name=row["name"],
            uscc=row["uscc"],
            id_number=row["id_number"],
            legal_representative=row["legal_representative"],
            contact_person=row["contact_person"],
            contact_phone=row["contact_phone"],
            address=row["address"],
            area=areas[row["area"]],
            industry=row["industry"],
            registration_status=row["registration_status"],
            risk_class=row["risk_class"],
            flags=row["flags"],
            last_inspected_on=dt.date(today.year - 1, 9, 15)
            if row["inspected_last_year"]
            else None,
            items=dept_items,
        )
        services.check_target(target)
        db.session.add(target)
    db.session.flush()
