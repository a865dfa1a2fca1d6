from django.urls import path

from .views import account, family, public

app_name = "portal"

urlpatterns = [
    # public: enrolment and sign-in
    path("", public.home, name="home"),
    path("activer/", public.activate, name="activate"),
    path("activer/identifiants/", public.activate_credentials, name="activate_credentials"),
    path("activer/verification/", public.activate_verify, name="activate_verify"),
    path("opposition/", public.opposition, name="opposition"),
    path("opposition/preuve/", public.opposition_proof, name="opposition_proof"),
    path("code-provisoire/", public.new_code, name="new_code"),
    path("code-provisoire/lien/<str:token>/", public.new_code_link, name="new_code_link"),
    path("code-provisoire/confirmer/", public.new_code_confirm, name="new_code_confirm"),
    path("connexion/", public.login, name="login"),
    path("connexion/code/", public.login_otp, name="login_otp"),
    path("deconnexion/", public.logout, name="logout"),
    path("mot-de-passe-oublie/", public.password_reset, name="password_reset"),
    path("mot-de-passe-oublie/code/", public.password_reset_confirm, name="password_reset_confirm"),
    path("identifiant-oublie/", public.username_reminder, name="username_reminder"),
    path("cgu/", public.terms, name="terms"),
    path("accessibilite/", public.accessibility, name="accessibility"),
    # signed in: account and notifications
    path("compte/", account.account, name="account"),
    path("compte/mot-de-passe/", account.password_change, name="password_change"),
    path("compte/coordonnees/", account.contact_change, name="contact_change"),
    path("compte/coordonnees/code/", account.contact_change_confirm, name="contact_change_confirm"),
    path("compte/appareils/", account.devices, name="devices"),
    path("compte/preferences/", account.preferences, name="preferences"),
    path("notifications/", account.notifications, name="notifications"),
    path("historique/", account.history, name="history"),
    # signed in: family and representatives
    path("famille/", family.family, name="family"),
    path("famille/profil/", family.switch_profile, name="switch_profile"),
    path("famille/activer/<uuid:child>/", family.activate_child, name="activate_child"),
    path("famille/inviter/", family.invite, name="invite_representative"),
    path("famille/invitation/<uuid:representation>/", family.respond, name="respond_invitation"),
    path("famille/fin/<uuid:representation>/", family.end, name="end_representation"),
]
