"""Request and response bodies of the patient API (snake_case JSON, public ids are UUIDs).

NIRs, Vitale serials, provisional and one-time codes only ever travel in POST bodies, never in a
URL or a query string (they would end up in access logs and browser histories).
"""

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from ninja import Field, Schema

from carnet.notifications.enums import Kind

ChannelIn = Literal["email", "sms"]
# Passwords: bounded before any hashing.
Secret = Annotated[str, Field(min_length=1, max_length=256)]
Nir = Annotated[str, Field(min_length=1, max_length=32, description="Numéro de sécurité sociale (NIR)")]
Serial = Annotated[str, Field(min_length=1, max_length=32, description="Numéro de série de la carte Vitale")]


class Error(Schema):
    """Every refusal: a message to show, and the input it is about (empty when it is about the request)."""

    detail: str
    field: str = ""


# --- enrolment ------------------------------------------------------------------------------------------


class EnrolmentIn(Schema):
    nir: Nir
    vitale_serial: Serial
    provisional_code: str = Field(min_length=1, max_length=32, description="Code provisoire XXXX-XXXX-XXXX")


class OppositionOut(Schema):
    proof_number: str
    opposed_at: dt.datetime


class ActivationOut(Schema):
    activation_token: str = Field(description="À renvoyer aux étapes suivantes de l'activation")
    expires_in: int = Field(description="Validité du jeton d'activation, en secondes")
    given_names: str
    family_name: str
    birth_date: dt.date
    suggested_email: str
    suggested_phone: str


class ActivationOtpIn(Schema):
    activation_token: str = Field(min_length=1, max_length=1024)
    channel: ChannelIn
    destination: str = Field(min_length=1, max_length=254)


class OtpSentOut(Schema):
    otp_id: UUID
    masked_destination: str


class ActivationCompleteIn(Schema):
    activation_token: str = Field(min_length=1, max_length=1024)
    otp_id: UUID
    otp_code: str = Field(min_length=1, max_length=16)
    username: str = Field(min_length=1, max_length=64)
    password: Secret
    accept_terms: bool


class UsernameOut(Schema):
    username: str


class NewCodeIn(Schema):
    nir: Nir
    vitale_serial: Serial
    birth_date: dt.date


class AcceptedOut(Schema):
    """The same answer whatever happened, so that no response reveals whether a NIR or login exists."""

    detail: str


# --- authentication -------------------------------------------------------------------------------------


class LoginIn(Schema):
    username: str = Field(min_length=1, max_length=64)
    password: Secret


class ChallengeOut(Schema):
    otp_id: UUID
    channel: ChannelIn
    masked_destination: str


class LoginOtpIn(Schema):
    otp_id: UUID
    code: str = Field(min_length=1, max_length=16)
    device_name: str = Field("", max_length=200,
                             description="Nom de l'appareil, affiché dans « Mes appareils »")


class TokenOut(Schema):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Durée d'inactivité (secondes) après laquelle le jeton expire")
    device_id: UUID


class PasswordResetIn(Schema):
    username: str = Field(min_length=1, max_length=64)


class PasswordResetOut(Schema):
    otp_id: UUID


class PasswordResetConfirmIn(Schema):
    otp_id: UUID
    code: str = Field(min_length=1, max_length=16)
    new_password: Secret


class UsernameReminderIn(Schema):
    nir: Nir
    birth_date: dt.date


# --- account --------------------------------------------------------------------------------------------


class MeOut(Schema):
    id: UUID = Field(description="Identifiant public du profil du titulaire")
    given_names: str
    family_name: str
    birth_date: dt.date
    sex: str
    ins: str = Field(description="INS (matricule INS, égal au NIR)")
    ins_system: str = Field(description="OID de l'INS, sous forme d'URN")
    status: str
    username: str
    email: str
    phone: str
    otp_channel: ChannelIn


class PasswordChangeIn(Schema):
    current_password: Secret
    new_password: Secret


class ContactChangeIn(Schema):
    channel: ChannelIn
    value: str = Field(min_length=1, max_length=254)
    password: Secret


class ContactConfirmIn(Schema):
    otp_id: UUID
    code: str = Field(min_length=1, max_length=16)
    use_for_login: bool = Field(True,
                                description="Recevoir désormais les codes de connexion à ces coordonnées")


class DeviceOut(Schema):
    id: UUID
    kind: Literal["web", "api"]
    user_agent: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    current: bool


# --- notifications --------------------------------------------------------------------------------------


class ProfileRef(Schema):
    id: UUID
    given_names: str
    family_name: str


class NotificationOut(Schema):
    id: UUID
    kind: Kind
    code: str
    title: str
    url: str
    created_at: dt.datetime
    read: bool
    read_at: dt.datetime | None
    about: ProfileRef | None = Field(None, description="Le profil concerné, pour un représentant")


class NotificationPageOut(Schema):
    count: int
    unread: int
    page: int
    page_size: int
    items: list[NotificationOut]


class PreferenceOut(Schema):
    kind: Kind
    label: str
    email: bool
    sms: bool
    mandatory: bool = Field(description="Les avis de sécurité partent toujours, au moins par courriel")


class PreferenceIn(Schema):
    kind: Kind
    email: bool
    sms: bool


class PreferencesIn(Schema):
    preferences: list[PreferenceIn] = Field(max_length=len(Kind.values))


# --- family ---------------------------------------------------------------------------------------------


ProfileRelation = Literal["holder", "attached_parent", "legal_representative", "guardian", "caregiver"]


class ProfileOut(Schema):
    id: UUID
    given_names: str
    family_name: str
    birth_date: dt.date
    status: str
    relation: ProfileRelation = Field(description="Mon lien avec ce profil")
    can_activate: bool = Field(False, description="Enfant rattaché dont je peux activer l'espace")


class ActivateChildIn(Schema):
    certify: bool = Field(description="Je certifie être le représentant légal de cet enfant")


class InviteIn(Schema):
    nir: Nir
    family_name: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=150)
    birth_date: dt.date
    kind: Literal["legal_representative", "guardian"]


class RepresentativeOut(Schema):
    id: UUID = Field(description="Identifiant de la représentation")
    representative: ProfileRef
    kind: str
    status: str
    is_me: bool
    created_at: dt.datetime
    expires_at: dt.datetime | None
    responded_at: dt.datetime | None


class InvitationOut(Schema):
    id: UUID
    profile: ProfileRef
    birth_date: dt.date
    kind: str
    invited_by: str
    created_at: dt.datetime
    expires_at: dt.datetime | None


class RepresentationOut(Schema):
    id: UUID
    profile_id: UUID
    kind: str
    status: str
