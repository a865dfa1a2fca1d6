from django.urls import path

from . import views, views_messaging

app_name = "pro"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.sign_in, name="sign_in"),
    path("connexion/oidc/", views.oidc_start, name="oidc_start"),
    path("connexion/oidc/retour/", views.oidc_callback, name="oidc_callback"),
    path("connexion/demo/", views.demo_sign_in, name="demo_sign_in"),
    path("deconnexion/", views.sign_out, name="sign_out"),
    path("patients/recherche/", views.search, name="search"),
    path("patients/<str:handle>/", views.patient, name="patient"),
    path("patients/<str:handle>/accord/", views.declare_consent, name="declare_consent"),
    path("patients/<str:handle>/urgence/", views.emergency_access, name="emergency_access"),
    path("patients/<str:handle>/urgence/fin/", views.end_emergency_access, name="end_emergency_access"),
    path("patients/<str:handle>/bloquer/", views.block_professional, name="block_professional"),
    path("patients/<str:handle>/bloques/<uuid:professional>/debloquer/", views.unblock_professional,
         name="unblock_professional"),
    path("patients/<str:handle>/deposer/", views.upload, name="upload"),
    path("patients/<str:handle>/ecrire/", views_messaging.write, name="write"),
    path("messagerie/", views_messaging.inbox, name="messages"),
    path("messagerie/<uuid:conversation>/", views_messaging.conversation, name="conversation"),
    path("messagerie/<uuid:conversation>/repondre/", views_messaging.reply, name="conversation_reply"),
    path("messagerie/<uuid:conversation>/clore/", views_messaging.close, name="conversation_close"),
    path("patients/<str:handle>/documents/<uuid:document>/", views.document, name="document"),
    path("patients/<str:handle>/documents/<uuid:document>/rendre-visible/", views.release_document,
         name="release_document"),
    path("patients/<str:handle>/documents/<uuid:document>/contenu/", views.document_content,
         name="document_content"),
    path("patients/<str:handle>/documents/<uuid:document>/apercu/", views.document_preview,
         name="document_preview"),
    path("patients/<str:handle>/documents/<uuid:document>/piece/", views.document_embedded,
         name="document_embedded"),
    path("patients/<str:handle>/documents/<uuid:document>/telecharger/", views.document_download,
         name="document_download"),
]
