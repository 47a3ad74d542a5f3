"""The user form's fields as the security administrator's browser posts them."""


def user_form(app, username: str, role_names, **changes) -> dict:
    """The edit form of `username`'s account with these roles (names), and `changes` on top."""
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username=username)
        data = {
            "last_name": user.last_name,
            "first_name": user.first_name,
            "username": user.username,
            "email": user.email,
            "active": "y",
            "departments": [d.id for d in user.departments],
            "roles": [sm.find_role(name).id for name in role_names],
        }
    data.update(changes)
    return data
