"""Every write of the identity area, one function per use case (faces call these, nothing else)."""

from .codes import issue_provisional_code, redeem_regeneration_link, request_new_code
from .enrolment import (
    ActivationTicket,
    EnrolmentError,
    begin_activation,
    complete_activation,
    oppose,
    send_activation_otp,
    verify_enrolment,
)
from .family import (
    FamilyError,
    activate_child,
    end_representation,
    invite_representative,
    process_coming_of_age,
    respond_to_invitation,
)
from .login import (
    LoginError,
    begin_contact_change,
    begin_login,
    begin_password_reset,
    change_password,
    finish_contact_change,
    finish_login,
    finish_password_reset,
    send_username_reminder,
    sign_out_device,
    sign_out_everywhere,
)

__all__ = [
    "ActivationTicket", "EnrolmentError", "FamilyError", "LoginError", "activate_child", "begin_activation",
    "begin_contact_change", "begin_login", "begin_password_reset", "change_password", "complete_activation",
    "end_representation", "finish_contact_change", "finish_login", "finish_password_reset",
    "invite_representative", "issue_provisional_code", "oppose", "process_coming_of_age",
    "redeem_regeneration_link", "request_new_code", "respond_to_invitation", "send_activation_otp",
    "send_username_reminder", "sign_out_device", "sign_out_everywhere", "verify_enrolment",
]
