"""Demo 一单两库 for Dongsheng: areas, six items, a dozen inspectors, forty targets with valid
codes. Idempotent: found by area name, item code, certificate number and USCC / ID number."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from app.core.identifiers import USCC, CitizenID
from app.directory import services
from app.directory.models import (
    DONGSHENG_AREAS,
    INDUSTRIES,
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

INSPECTORS = [
    # name, gender, dept, post, certificate, years valid (negative: expired), specialties, status, user
    (
        "王建国",
        "男",
        "SZYK",
        "科长",
        "15060201001",
        3,
        "水资源、节约用水",
        "在岗",
        "inspector_wang",
    ),
    ("李海涛", "男", "HHK", "副科长", "15060201002", 2, "河湖管理", "在岗", "inspector_li"),
    (
        "张伟",
        "男",
        "ZFDD",
        "队长",
        "15060201003",
        4,
        "水政执法、河湖管理",
        "在岗",
        "inspector_zhang",
    ),
    ("刘敏", "女", "SZYK", "科员", "15060201004", 1, "水资源", "在岗", None),
    ("赵磊", "男", "SZYK", "科员", "15060201005", -1, "节约用水", "在岗", None),
    ("孙丽", "女", "HHK", "科员", "15060201006", 2, "河湖管理", "在岗", None),
    ("周强", "男", "STBC", "站长", "15060201007", 3, "水土保持", "在岗", None),
    ("吴芳", "女", "STBC", "技术员", "15060201008", 2, "水土保持", "离岗", None),
    ("郑浩", "男", "ZAJDZ", "站长", "15060201009", 5, "水利工程质量安全", "在岗", None),
    ("冯雪", "女", "ZAJDZ", "工程师", "15060201010", 2, "水利工程质量安全", "在岗", None),
    ("陈刚", "男", "ZFDD", "执法员", "15060201011", 3, "水政执法", "在岗", None),
    ("褚红", "女", "ZFDD", "执法员", "15060201012", 1, "水政执法、水资源", "调离", None),
]

COMPANY_WORDS = ["煤业", "化工", "建材", "水务", "热力", "农牧", "砂石", "建设", "能源", "食品"]
TOWN_WORDS = ["东胜", "鄂尔多斯", "铜川", "罕台", "泊江海", "天骄", "富兴", "巴音", "兴胜", "康和"]
INDUSTRY_BY_DEPT = {
    "SZYK": ["取水单位", "用水大户"],
    "HHK": ["河道采砂", "生产建设项目"],
    "STBC": ["生产建设项目"],
    "ZAJDZ": ["水利工程建设单位"],
}


def _uscc(prefix: str, n: int) -> str:
    body = f"{prefix}150602MA0N{n:05d}"[:17]
    return body + USCC.calc_check_digit(body)


def _citizen_id(n: int) -> str:
    body = f"150602{1960 + n % 40}{(n % 12) + 1:02d}{(n % 28) + 1:02d}{n % 1000:03d}"
    return body + CitizenID.calc_check_digit(body)


def seed_directory(departments: dict, users: dict, leader) -> None:
    today = dt.date.today()
    rng = random.Random(20231129)  # the same demo data set on every machine
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
    for name, gender, dept, post, cert, years, specs, status, username in INSPECTORS:
        if cert in known:
            continue
        inspector = Inspector(
            name=name,
            gender=gender,
            department=departments[dept],
            post=post,
            certificate_no=cert,
            certificate_expiry=today.replace(year=today.year + years),
            specialties=specs,
            status=status,
            phone=f"1384770{int(cert[-4:]):04d}",
            user_id=users[username].id if username and username in users else None,
        )
        services.check_inspector(inspector)
        db.session.add(inspector)
    db.session.flush()

    known_codes = set(db.session.scalars(select(Target.uscc))) | set(
        db.session.scalars(select(Target.id_number))
    )
    area_list = list(areas.values())
    n = 0
    for dept, industries in INDUSTRY_BY_DEPT.items():
        dept_items = [
            i
            for i in items.values()
            if i.department_id == departments[dept].id and i.status == "published"
        ]
        for k in range(10):
            n += 1
            natural = k == 9
            kind = "自然人" if natural else ("个体工商户" if k == 8 else "企业")
            uscc = None if natural else _uscc("92" if kind == "个体工商户" else "91", n)
            id_number = _citizen_id(n) if natural else None
            if (uscc or id_number) in known_codes:
                continue
            industry = industries[k % len(industries)]
            name = (
                f"{rng.choice('王李张刘陈杨赵黄周吴')}{rng.choice(['建军', '海燕', '志刚', '桂英'])}"
                if natural
                else f"鄂尔多斯市{rng.choice(TOWN_WORDS)}{rng.choice(COMPANY_WORDS)}"
                f"{'经营部' if kind == '个体工商户' else '有限责任公司'}{n:02d}"
            )
            target = Target(
                department=departments[dept],
                target_type=kind,
                name=name,
                uscc=uscc,
                id_number=id_number,
                legal_representative=None if natural else "张三",
                contact_person="李四",
                contact_phone=f"1394770{n:04d}",
                address=f"东胜区{rng.choice(area_list).name}{rng.randint(1, 99)}号",
                area=rng.choice(area_list),
                industry=industry if industry in INDUSTRIES else None,
                registration_status="注销" if k == 7 else "存续",
                risk_class=rng.choice("AABBBBCCD"),
                flags="投诉举报多" if k == 3 else ("失信" if k == 5 else None),
                last_inspected_on=today.replace(year=today.year - 1) if k % 3 == 0 else None,
                items=dept_items,
            )
            services.check_target(target)
            db.session.add(target)
    db.session.flush()
