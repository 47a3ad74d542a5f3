"""两步验证: the signed-in user's own second factor (status, enrolment, recovery codes,
switching it off) and the second step of the form login. The logic is two_factor.py's."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.security.views import AuthDBView as FabAuthDBView
from flask_appbuilder.security.views import LoginForm_db
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.security import throttle, two_factor
from app.security.scope import current_actor


class CodeForm(FlaskForm):
    code = StringField(
        _l("Verification code"),
        validators=[DataRequired(message=_l("Enter the code.")), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )


class DisableForm(CodeForm):
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class AuthDBView(FabAuthDBView):
    """FAB's form login with a second step for an account that has a second factor: the
    password alone signs nobody in."""

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            sm = self.appbuilder.sm
            user = sm.password_user(form.username.data, form.password.data)
            if not user:
                flash(str(self.invalid_login_message), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            if two_factor.is_enrolled(user):
                two_factor.begin_second_step(user, next_url)
                return redirect(url_for(".login_code"))
            sm.complete_sign_in(user)
            login_user(user, remember=False)
            if two_factor.needs_enrolment(user):
                return redirect(url_for("TwoFactorView.enrol"))
            return redirect(next_url)
        return self.render_template(
            self.login_template, title=self.title, form=form, appbuilder=self.appbuilder
        )

    @expose("/logout/")
    def logout(self):
        """退出 also ends a half-finished sign-in (password right, code not yet): before, the
        code could still be entered after signing out."""
        two_factor.forget_pending()
        return super().logout()

    @expose("/login/code", methods=["GET", "POST"])
    @no_cache
    def login_code(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        user, next_url = two_factor.pending_sign_in()
        if user is None:
            flash(_("The sign-in has expired: enter your username and password again."), "warning")
            return redirect(self.appbuilder.get_url_for_login)
        form = CodeForm()
        if form.validate_on_submit():
            if throttle.is_locked(user.username):
                two_factor.forget_pending()
                raise throttle.AccountLocked(throttle.lock_minutes())
            used = two_factor.verify_second_factor(user, form.code.data)
            if used:
                two_factor.forget_pending()
                self.appbuilder.sm.complete_sign_in(user, second_factor=used)
                login_user(user, remember=False)
                if used == "recovery":
                    flash(
                        _(
                            "You signed in with a recovery code; %(left)d are left.",
                            left=two_factor.recovery_codes_left(user.id),
                        ),
                        "warning",
                    )
                return redirect(next_url)
            db.session.rollback()
            if two_factor.count_failure(user):
                two_factor.forget_pending()
                raise throttle.AccountLocked(throttle.lock_minutes())
            flash(str(two_factor.WRONG_CODE), "danger")
        return self.render_template(
            "security/login_code.html",
            title=_("Two-factor sign-in"),
            form=form,
            appbuilder=self.appbuilder,
        )


class TwoFactorView(BaseView):
    """The signed-in user's own second factor; nobody else's is reachable here (an
    administrator resets another user's from the user list)."""

    route_base = "/two-factor"
    class_permission_name = "TwoFactor"
    method_permission_name = {
        "index": "read",
        "enrol": "write",
        "recovery_codes": "write",
        "disable": "write",
    }
    default_view = "index"

    def _page(self, template, **context):
        return self.render_template(template, required=two_factor.required(), **context)

    @expose("/", methods=["GET"])
    @has_access
    @no_cache
    def index(self):
        user = current_actor()
        record = two_factor.record_of(user.id)
        enrolled = record is not None and record.enrolled_at is not None
        return self._page(
            "security/two_factor.html",
            enrolled_at=record.enrolled_at if enrolled else None,
            codes_left=two_factor.recovery_codes_left(user.id) if enrolled else 0,
            code_form=CodeForm(),
            disable_form=DisableForm(prefix="off"),
        )

    @expose("/enrol", methods=["GET", "POST"])
    @has_access
    @no_cache
    def enrol(self):
        user = current_actor()
        if two_factor.is_enrolled(user):
            flash(_("Two-factor sign-in is already on for your account."), "info")
            return redirect(url_for(".index"))
        form = CodeForm()
        if form.validate_on_submit():
            codes = two_factor.confirm_enrolment(user, form.code.data)
            if codes is not None:
                flash(_("Two-factor sign-in is on for your account."), "success")
                return self._codes_page(codes)
            flash(
                _("The code is wrong. Check the time of the phone and enter the current code."),
                "danger",
            )
        secret = two_factor.pending_secret(user)
        uri = two_factor.provisioning_uri(user, secret)
        return self._page(
            "security/two_factor_enrol.html",
            form=form,
            qr_svg=two_factor.qr_svg(uri),
            secret_groups=two_factor.grouped(secret),
            account=user.username,
            issuer=two_factor.issuer(),
        )

    def _codes_page(self, codes):
        user = current_actor()
        text = "\r\n".join(
            [
                _("Recovery codes of %(username)s (each works once):", username=user.username),
                "",
                *codes,
                "",
            ]
        )
        return self._page("security/two_factor_codes.html", codes=codes, codes_text=text)

    @expose("/recovery-codes", methods=["POST"])
    @has_access
    @no_cache
    def recovery_codes(self):
        user = current_actor()
        form = CodeForm()
        if _locked_out(user):
            return redirect(url_for(".index"))
        if form.validate_on_submit():
            codes = two_factor.regenerate_recovery_codes(user, form.code.data)
            if codes is not None:
                flash(_("New recovery codes: the earlier ones no longer work."), "success")
                return self._codes_page(codes)
            # Guessing codes here would give a stolen session lasting recovery codes: counted.
            two_factor.count_failure(user)
        flash(str(two_factor.WRONG_CODE), "danger")
        return redirect(url_for(".index"))

    @expose("/disable", methods=["POST"])
    @has_access
    @no_cache
    def disable(self):
        user = current_actor()
        if two_factor.required():
            flash(
                _("Two-factor sign-in is required for every account: it cannot be switched off."),
                "danger",
            )
            return redirect(url_for(".index"))
        form = DisableForm(prefix="off")
        if _locked_out(user):
            return redirect(url_for(".index"))
        record = two_factor.record_of(user.id)
        if (
            form.validate_on_submit()
            and record is not None
            and record.enrolled_at is not None
            and check_password_hash(user.password or "", form.password.data)
            and two_factor.accept_totp(record, form.code.data)
        ):
            two_factor.remove(user, "two_factor_disable")
            db.session.commit()
            flash(_("Two-factor sign-in is off for your account."), "success")
            return redirect(url_for(".index"))
        db.session.rollback()
        if form.is_submitted() and record is not None and record.enrolled_at is not None:
            two_factor.count_failure(user)  # a password or code guessed here counts too
        flash(_("The password or the code is wrong: two-factor sign-in stays on."), "danger")
        return redirect(url_for(".index"))


def _locked_out(user) -> bool:
    """An account locked by failed sign-ins (or failed codes here) changes nothing here either
    until the lock ends."""
    if not throttle.is_locked(user.username):
        return False
    flash(str(throttle.AccountLocked(throttle.lock_minutes()).user_message), "danger")
    return True
