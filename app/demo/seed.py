"""A realistic Dongsheng district water-sector data set. Idempotent: rows are found by their
natural keys (department code, username) and created only when missing."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.core.identifiers import USCC
from app.demo.directory import seed_directory
from app.demo.planning import seed_planning
from app.extensions import db
from app.security import roles
from app.security.models import Department
from app.security.system_user import acting_as_system

# Demo only: printed by `make run`, never used on a real installation.
DEMO_PASSWORD = "Dongsheng2026"

BUREAU = ("DSSLJ", "鄂尔多斯市东胜区水利局", "bureau", None)
DEPARTMENTS = [
    BUREAU,
    ("BGS", "办公室", "section", "DSSLJ"),
    ("SZYK", "水资源管理科", "section", "DSSLJ"),
    ("HHK", "河湖管理科", "section", "DSSLJ"),
    ("NSK", "农村水利水电科", "section", "DSSLJ"),
    ("ZFDD", "水政监察大队", "unit", "DSSLJ"),
    ("STBC", "水土保持站", "unit", "DSSLJ"),
    ("ZAJDZ", "水利工程建设质量与安全监督站", "unit", "DSSLJ"),
    ("JSJC", "节约用水办公室", "unit", "SZYK"),
]

# 统一社会信用代码 of the departments that are legal persons (the 处罚机关 of their penalties):
# demo codes (机关 "11", Dongsheng's area code) with a correct check character.
DEPARTMENT_USCC_BODIES = {"DSSLJ": "11150602MB1571380"}


def department_uscc(code: str) -> str | None:
    body = DEPARTMENT_USCC_BODIES.get(code)
    return body + USCC.calc_check_digit(body) if body else None


# username, family name, given name, role, department codes, what the account is for
USERS = [
    ("admin", "赵", "宏宇", roles.ADMIN, [], "系统管理员：部门、区域、节假日日历"),
    ("secadmin", "钱", "国安", roles.SECURITY_ADMIN, [], "安全管理员：账号、角色、密码重置、解锁"),
    ("auditor", "吴", "敏", roles.AUDIT_ADMIN, [], "审计管理员：查阅、审阅全部审计日志"),
    ("leader", "高", "志远", roles.LEADER, ["DSSLJ"], "局领导：全局数据"),
    ("leader_szy", "孙", "明", roles.LEADER, ["SZYK"], "分管领导：水资源管理科及节约用水办公室"),
    ("operator_szy", "刘", "芳", roles.OPERATOR, ["SZYK"], "业务管理员：水资源管理科"),
    ("operator_hh", "陈", "静", roles.OPERATOR, ["HHK"], "业务管理员：河湖管理科"),
    ("operator_stbc", "杨", "帆", roles.OPERATOR, ["STBC"], "业务管理员：水土保持站"),
    ("inspector_wang", "王", "建国", roles.INSPECTOR, ["SZYK"], "执法检查人员：水资源管理科"),
    ("inspector_li", "李", "海涛", roles.INSPECTOR, ["HHK"], "执法检查人员：河湖管理科"),
    ("inspector_zhang", "张", "伟", roles.INSPECTOR, ["ZFDD"], "执法检查人员：水政监察大队"),
    ("jointoffice", "周", "立新", roles.JOINT_OFFICE, [], "区联席会议办公室：已公示及备案数据"),
]


def seed_demo() -> list[tuple[str, str, str]]:
    """Load the demo data set; returns (username, role, purpose) of every demo login."""
    sm = current_app.appbuilder.sm
    with acting_as_system():
        by_code = {d.code: d for d in db.session.scalars(select(Department))}
        for order, (code, name, kind, parent_code) in enumerate(DEPARTMENTS):
            if code in by_code:
                continue
            dept = Department(
                code=code,
                name=name,
                kind=kind,
                sort_order=order * 10,
                parent=by_code.get(parent_code),
                active=True,
            )
            db.session.add(dept)
            by_code[code] = dept
        for code, dept in by_code.items():
            if dept.uscc is None and department_uscc(code):
                dept.uscc = department_uscc(code)
        db.session.flush()
        logins = []
        for username, family, given, role_name, dept_codes, purpose in USERS:
            if sm.find_user(username=username) is None:
                role = sm.find_role(role_name) or sm.add_role(role_name)
                user = sm.add_user(
                    username=username,
                    first_name=given,
                    last_name=family,
                    email=f"{username}@dongsheng-water.example",
                    role=role,
                    password=DEMO_PASSWORD,
                )
                if not user:
                    raise RuntimeError(f"could not create demo user {username}")
                user.departments = [by_code[c] for c in dept_codes]
            logins.append((username, role_name, purpose))
        db.session.flush()
        users = {u: sm.find_user(username=u) for u, *_ in USERS}
        seed_directory(by_code, users, leader=users["leader"])
        seed_planning(by_code, users)
        db.session.commit()
    return logins
