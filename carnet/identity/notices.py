"""Texts of the notices the identity area sends. No health data, ever: they speak of the space.

Bodies are plain text shared by email and letters; the provisional code is the only secret they
carry and the outbox erases it once the message has left.
"""

import datetime as dt

from django.conf import settings
from django.utils.formats import date_format

SERVICE = "Carnet"


def _url(path: str) -> str:
    return settings.CARNET_PUBLIC_URL.rstrip("/") + path


def _day(day: dt.date) -> str:
    return date_format(day, "j F Y")


def postal_address(person) -> str:
    return f"{person.full_name}\n{person.address}\n{person.postal_code} {person.city}".strip()


def provisional_code_notice(person, recipient, code: str, *, expires: dt.date, opposition_deadline: dt.date | None,
                            coming_of_age: bool = False) -> tuple[str, str]:
    """The notice of creation: what the space is, the code, how to activate, oppose or close."""
    for_child = recipient.nir != person.nir
    whose = f"de {person.full_name}, dont vous êtes le représentant légal," if for_child else "personnel"
    subject = (
        f"{SERVICE} : l'espace santé de {person.first_name} est prêt" if for_child
        else f"{SERVICE} : votre espace santé personnel est prêt"
    )
    lines = [
        f"Bonjour {recipient.full_name},",
        "",
    ]
    if coming_of_age:
        lines += [
            "Vous avez 18 ans : votre espace santé est désormais le vôtre, et vos représentants légaux "
            "n'y ont plus accès. Pour l'utiliser, activez-le avec le code ci-dessous.",
            "",
        ]
    else:
        lines += [
            f"L'Assurance Maladie crée l'espace numérique de santé {whose} dans {SERVICE}. "
            "C'est un espace sécurisé pour conserver vos documents de santé (ordonnances, résultats "
            "d'examens, comptes rendus), votre profil médical et échanger avec les professionnels de santé "
            "que vous choisissez. Vous seul décidez qui y accède.",
            "",
        ]
    lines += [
        f"Votre code provisoire : {code}",
        f"Il est valable jusqu'au {_day(expires)} et ne sert qu'une fois.",
        "",
        f"Pour activer l'espace : rendez-vous sur {_url('/activer/')} avec le numéro de sécurité sociale, "
        "le numéro de série de la carte Vitale et ce code.",
    ]
    if opposition_deadline and not coming_of_age:
        lines += [
            "",
            f"Vous ne souhaitez pas de cet espace ? Vous pouvez vous opposer à sa création jusqu'au "
            f"{_day(opposition_deadline)} sur {_url('/opposition/')} avec les mêmes informations. "
            "Sans opposition de votre part, l'espace sera ouvert après cette date.",
        ]
    lines += [
        "",
        "Vous pourrez aussi fermer l'espace à tout moment après l'avoir activé, depuis ses paramètres.",
        f"Code expiré ou perdu ? Demandez-en un nouveau sur {_url('/code-provisoire/')}.",
        "",
        f"L'équipe {SERVICE}",
    ]
    return subject, "\n".join(lines)


def regeneration_link_email(recipient, link: str) -> tuple[str, str]:
    return (
        f"{SERVICE} : votre demande de nouveau code provisoire",
        "\n".join([
            f"Bonjour {recipient.full_name},",
            "",
            "Vous avez demandé un nouveau code provisoire. Ouvrez ce lien pour l'obtenir "
            f"(il est valable {settings.CARNET_LINK_TTL_SECONDS // 60} minutes et ne sert qu'une fois) :",
            link,
            "",
            "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.",
            "",
            f"L'équipe {SERVICE}",
        ]),
    )


def otp_message(code: str, purpose_label: str) -> tuple[str, str]:
    minutes = settings.CARNET_OTP_TTL_SECONDS // 60
    subject = f"{SERVICE} : votre code de sécurité"
    body = (
        f"Votre code de sécurité {SERVICE} pour {purpose_label} : {code}\n"
        f"Il est valable {minutes} minutes. Ne le communiquez à personne."
    )
    return subject, body


def username_reminder(recipient, username: str) -> tuple[str, str]:
    return (
        f"{SERVICE} : votre identifiant",
        f"Bonjour {recipient.full_name},\n\nVotre identifiant {SERVICE} est : {username}\n\n"
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n",
    )
