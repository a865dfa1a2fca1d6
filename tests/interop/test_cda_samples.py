"""Every published CI-SIS example indexes from its header alone, field by field.

Files: all 68 CDA documents of /work/shared/samples/cda/ci-sis-3.0 (57, ansforge/TestContenuCDA-3-0 at 7cd489b,
folder ExemplesCDA/) and /work/shared/samples/cda/ci-sis-2.41 (11, ansforge/TestContenuCDA-2-41 at d890ebd). The
expected values were read from the XML of each file (dumped with a separate XPath pass over the whole tree, then
checked by hand against the files), not from ``read_header``.

What the table says about the published examples, deliberately:
* INS: the 3.0 examples mostly use the test OID 1.2.250.1.213.1.4.10, but the 3.0 birth certificates (CSE-CS8/9/24
  2024) and the obstetrics summaries (OBP-*) use the production OID .8; CSE-CS9_2025 carries .10 plus a
  demonstration-range id (.13). Five INS values fail the NIR control key (the CSE-* children, OBP-SEM and the
  SDM-MR newborn): ``ins_check.problem == "bad_key"``; the indexer keeps them as written and flags them, and the
  DMP importer refuses to match them to anyone (docs/decisions/0009-dmp-migration.md).
* Authors: RPPS only from a national id "8" + RPPS. OPH-CR-RTN identifies the orthoptist as "0" + ADELI (the file's
  own comment), CANCER-FRCP Appareil writes "4..." (a SIREN/SIRET-based id, although its comment says RPPS), and
  CNAM-HR is authored by a device (Assurance Maladie, id "5" + SIRET): no RPPS for those three.
* Every example has a structured body (N3); the PDF-embedded (N1) shape is covered by the hand-made documents of
  test_cda.py. Replacements (RPLC): BIO Microbiologie V2, CSE-CS8, IPS-FR, OPH-BRE.
"""

import datetime as dt
from typing import NamedTuple

import pytest

from carnet.interop.cda import InstanceId, read_header
from tests.interop.builders import CDA_30, CDA_241, CDA_HEADER, cda, structured


class Expected(NamedTuple):
    file: str
    ins_root: str
    ins_extension: str
    type_code: str
    title: str
    effective_time: str  # ISO 8601, with the document's own offset
    author_national_id: str | None  # first author's assignedAuthor/id extension (PS national id)
    author_device: str | None  # assignedAuthoringDevice/softwareName when a device wrote it
    custodian_id: str  # representedCustodianOrganization/id extension (root 1.2.250.1.71.4.2.2)
    custodian_name: str
    confidentiality: str
    set_id: str | tuple[str, str]  # root, or (root, extension)
    version: int
    replaces: str | tuple[str, str] | None  # relatedDocument[@typeCode=RPLC]/parentDocument/id
    body: str


CI_SIS_30 = [
    Expected('ANEST-CR-CPA_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34749-2',
             'CR de consultation pré-anesthésique',
             '2020-03-17T17:11:00+01:00', '801234567897', None,
             '1750803447', 'Hôpital Européen Georges Pompidou', 'N',
             '1.2.250.1.213.1.1.1.41.2022.1', 1, None, 'structured'),
    Expected('AVC-AUNV_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34133-9',
             "Fiche d'admission en unité neuro-vasculaire",
             '2018-09-23T23:20:00+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.15.2022.1', 1, None, 'structured'),
    Expected('AVC-EUNV_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34133-9',
             "Fiche d'épisode de soin en unité neuro-vasculaire",
             '2018-10-01T11:17:00+01:00', '801234567897', None,
             '1750803447', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.16.2022.1', 1, None, 'structured'),
    Expected('AVC-PAVC_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11488-4',
             "Compte-rendu de consultation d'évaluation pluri-professionnelle post AVC",
             '2018-12-01T11:00:00+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.25.2022.1', 1, None, 'structured'),
    Expected('AVC-SUNV_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34133-9',
             "Fiche de sortie d'unité neuro-vasculaire",
             '2018-10-03T11:17:00+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.17.2022.1', 1, None, 'structured'),
    Expected('BIO-CR-BIO_2021.01_Auto-Presentable_avec-image.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11502-2',
             "Compte rendu d'examens biologiques",
             '2021-04-01T17:10:00+02:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '1.2.250.1.213.1.1.1.55.2021.2', 1, None, 'structured'),
    Expected('BIO-CR-BIO_2021.01_CR-2nde-intention.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11502-2',
             "Compte rendu d'examens biologiques",
             '2021-01-04T16:05:27+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '1.2.250.1.213.1.1.1.55.2021.4', 1, None, 'structured'),
    Expected('BIO-CR-BIO_2021.01_Electrophorese.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11502-2',
             "Compte rendu d'examens biologiques",
             '2021-01-04T16:05:27+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '1.2.250.1.213.1.1.1.55.2021.5', 1, None, 'structured'),
    Expected('BIO-CR-BIO_2021.01_Microbiologie_V1.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11502-2',
             "Compte rendu d'examens biologiques",
             '2021-01-04T16:05:27+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '1.2.250.1.213.1.1.1.55.2021.6', 1, None, 'structured'),
    Expected('BIO-CR-BIO_2021.01_Microbiologie_V2.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11502-2',
             "Compte rendu d'examens biologiques",
             '2021-01-04T16:05:27+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '1.2.250.1.213.1.1.1.55.2021.6', 2, '1.2.250.1.213.1.1.1.55.12345.8', 'structured'),
    Expected('BIO-CR-BIO_2023.01_Electrophorese.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11502-2',
             "Compte rendu d'examens biologiques",
             '2023-01-04T16:05:27+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '1.2.250.1.213.1.1.1.55.12345', 1, None, 'structured'),
    Expected('BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11502-2',
             "Compte rendu d'examens biologiques",
             '2024-01-04T16:05:27+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '1.2.250.1.213.1.1.1.55.2024.1', 1, None, 'structured'),
    Expected('BIO-CR-BIO_2024.01_CRP_non_LOINC.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11502-2',
             "Compte rendu d'examens biologiques",
             '2021-04-01T17:10:00+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '1.2.250.1.213.1.1.1.55.2024.2', 1, None, 'structured'),
    Expected('BIO-CR-BIO_2024.01_Electrophorese.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11502-2',
             "Compte rendu d'examens biologiques",
             '2024-01-04T16:05:27+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '1.2.250.1.213.1.1.1.55.2024.5', 1, None, 'structured'),
    Expected('BIO-CR-BIO_2024.01_Microbiologie_V1.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '11502-2',
             "Compte rendu d'examens biologiques",
             '2024-01-04T16:05:27+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '1.2.250.1.213.1.1.1.55.2024.8', 1, None, 'structured'),
    Expected('BIO-TROD_2024.01_Angine.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '96173-0',
             "Test rapide d'orientation diagnostique : TROD Angine",
             '2024-01-06T11:36:23+01:00', '807655473259', None,
             '2801234567', 'Pharmacie des 4 cantons', 'N',
             '1.2.250.1.213.1.1.1.59.2024.1', 1, None, 'structured'),
    Expected('BIO-TROD_2024.01_COVID-19_Grippe-A_Grippe-B.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '96173-0',
             "Test rapide d'orientation diagnostique : TROD Covid 19 / Grippe A / Grippe B",
             '2024-01-06T11:36:23+01:00', '807655473259', None,
             '2801234567', 'Pharmacie des 4 cantons', 'N',
             '1.2.250.1.213.1.1.1.59.2024.3', 1, None, 'structured'),
    Expected('BIO-TROD_2024.01_Cystite.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '96173-0',
             "Test rapide d'orientation diagnostique : TROD Cystite",
             '2024-01-06T11:36:23+01:00', '807655473259', None,
             '2801234567', 'Pharmacie des 4 cantons', 'N',
             '1.2.250.1.213.1.1.1.59.2024.4', 1, None, 'structured'),
    Expected('CANCER-CR-GM_2022.01_AnalyseNonRealisee.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '51969-4',
             'Compte-rendu de génétique moléculaire (CR-GM)',
             '2018-01-23T12:45:00+01:00', '800100200300', None,
             '1490012345', "Laboratoire de génétique moléculaire d'Angers", 'N',
             '1.2.250.1.213.1.1.1.32.2022.1', 2, None, 'structured'),
    Expected('CANCER-CR-GM_2022.01_AnalyseRealisee.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '51969-4',
             'Compte-rendu de génétique moléculaire (CR-GM)',
             '2018-01-23T12:45:00+01:00', '800100200300', None,
             '1490012345', "Laboratoire de génétique moléculaire d'Angers", 'N',
             '1.2.250.1.213.1.1.1.32.2022.2', 1, None, 'structured'),
    Expected('CANCER-D2LM-FIDD_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '18748-4',
             "DÉPISTAGE DU CANCER DU SEIN - FICHE D'INTERPRÉTATION DU BILAN DE DIAGNOSTIC DIFFERÉ",
             '2021-07-29T12:17:00+01:00', '801234567897', None,
             '1750803447', 'Centre de radiologie du Petit Pont', 'N',
             '1.2.250.1.213.1.1.1.28.2022.1', 1, None, 'structured'),
    Expected('CANCER-D2LM-FIN_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '18748-4',
             'DÉPISTAGE DU CANCER DU SEIN - FICHE D’INTERPRÉTATION DE LA MAMMOGRAPHIE',
             '2021-07-29T12:17:00+01:00', '801234567897', None,
             '1750803447', 'Centre de radiologie du Petit Pont', 'N',
             '1.2.250.1.213.1.1.1.27.2022.1', 1, None, 'structured'),
    Expected('CANCER-FRCP_2022.01_Appareil.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34794-8',
             'FRCP ONCO PAYS DE LA LOIRE / 3C CHU Angers / Sein',
             '2019-02-18T09:49:14+01:00', '401234567890009', None,
             '1120456789', "Centre Hospitalier d'Angers", 'N',
             '1.2.250.1.213.1.1.1.8.2022.1', 1, None, 'structured'),
    Expected('CANCER-FRCP_2022.01_Transversale.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34794-8',
             'FRCP ONCO PAYS DE LA LOIRE / 3C CHU Angers / Soins de support',
             '2019-02-18T09:49:14+01:00', '801234567897', None,
             '1490000049', "Centre Hospitalier d'Angers", 'N',
             '1.2.250.1.213.1.1.1.8.2022.2', 1, None, 'structured'),
    Expected('CANCER-PPS_2022.01_Autopresentable.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '18776-5',
             'PROGRAMME PERSONNALISÉ DE SOINS EN CANCEROLOGIE',
             '2021-01-13T12:17:00+01:00', '801234567897', None,
             '1120456789', "Centre de coordination en cancérologie d'ANGERS", 'N',
             '1.2.250.1.213.1.1.1.26.2022.1', 1, None, 'structured'),
    Expected('CARD-F-PRC-DCI_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34133-9',
             'Fiche patient à risque en cardiologie - Défibrillateur cardiaque interne',
             '2008-09-29T09:49:14+01:00', '801234567897', None,
             '1120456789', 'Centre Hospitalier DUNANT', 'N',
             '1.2.250.1.213.1.1.1.2.1.3.2022.1', 2, None, 'structured'),
    Expected('CARD-F-PRC-PPV_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34133-9',
             "Fiche patient à risque en cardiologie - Porteur d'une prothèse valvulaire",
             '2008-09-29T09:49:14+01:00', '801234567897', None,
             '1120456789', 'Centre Hospitalier DUNANT', 'N',
             '1.2.250.1.213.1.1.1.2.1.5.2022.1', 2, None, 'structured'),
    Expected('CARD-F-PRC-PSC_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34133-9',
             "Fiche patient à risque en cardiologie - Porteur d'un stimulateur cardiaque",
             '2008-09-29T09:49:14+01:00', '801234567897', None,
             '1120456789', 'Centre Hospitalier DUNANT', 'N',
             '1.2.250.1.213.1.1.1.2.1.4.2022.1', 2, None, 'structured'),
    Expected('CARD-F-PRC-TAP_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34133-9',
             'Fiche patient à risque en cardiologie - Traitement antiagrégant plaquettaire, stent',
             '2008-09-29T09:49:14+01:00', '801234567897', None,
             '1120456789', 'Centre Hospitalier DUNANT', 'N',
             '1.2.250.1.213.1.1.1.2.1.2.2022.1', 2, None, 'structured'),
    Expected('CSE-CS24_2024.01.xml',
             '1.2.250.1.213.1.4.8', '221042545611404', 'CERT_DECL',
             'TROISIEME CERTIFICAT DE SANTE (à établir obligatoirement au cours du 24ème mois)',
             '2021-08-03T11:36:23+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.5.3.2024.1', 1, None, 'structured'),
    Expected('CSE-CS8_2024.01.xml',
             '1.2.250.1.213.1.4.8', '223042545611404', 'CERT_DECL',
             'PREMIER CERTIFICAT DE SANTE (à établir obligatoirement dans les 8 jours suivant la naissance)',
             '2021-05-03T11:45:00+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.5.1.2024.1', 1, '1.2.250.1.213.1.1.1.5.1.1', 'structured'),
    Expected('CSE-CS9_2024.01.xml',
             '1.2.250.1.213.1.4.8', '221042545611404', 'CERT_DECL',
             'DEUXIEME CERTIFICAT DE SANTE (à établir obligatoirement au cours du 9ème mois)',
             '2021-02-11T09:49:14+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.5.2.2024.1', 1, None, 'structured'),
    Expected('CSE-CS9_2025.01.xml',
             '1.2.250.1.213.1.4.10', '221042545611404', 'CERT_DECL',
             'Deuxième certificat de santé (à établir obligatoirement au cours du 9ème mois)',
             '2021-02-11T09:49:14+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.5.12345', 1, None, 'structured'),
    Expected('CSE-MDE_2023.01.xml',
             '1.2.250.1.213.1.4.8', '222127505611201', '29274-8',
             "Carnet de santé de l'enfant - Mesures de l'enfant",
             '2023-01-06T11:36:23+01:00', '801234567897', None,
             '2801234567', 'Centre de santé du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.5.4.2023.1', 4, None, 'structured'),
    Expected('DLU-EHPAD-DLU_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '74207-2',
             "DOCUMENT DE LIAISON D'URGENCE",
             '2020-03-27T15:35:00+01:00', '801234567897', None,
             '1750803447', 'EHPAD DE BOULOGNE-BILLANCOURT', 'N',
             '1.2.250.1.213.1.1.1.22.2022.1', 1, None, 'structured'),
    Expected('DLU-EHPAD-FLUDR_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '74207-2',
             "FICHE DE LIAISON D'URGENCE/DOCUMENT DE RETOUR DU SERVICE DES URGENCES VERS L'EHPAD",
             '2020-03-28T17:55:00+01:00', '801234545872', None,
             '1137051849', 'CHU DE NANTERRE', 'N',
             '1.2.250.1.213.1.1.1.24.2022.1', 1, None, 'structured'),
    Expected('IMG-DA-IMG_2024.01_Mammo-Echo-Seins.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '55115-0',
             "Demande d'acte d'imagerie",
             '2021-01-12T11:17:00+01:00', '801234567897', None,
             '101235555', 'Centre de soins du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.47.2024.1', 1, None, 'structured'),
    Expected('IMG-DA-IMG_2024.01_Radiographie_ChevilleGenou.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '55115-0',
             "Demande d'acte d'imagerie",
             '2021-01-12T11:17:00+01:00', '801234567897', None,
             '101235555', 'HU ROBERT DEBRE APHP', 'N',
             '1.2.250.1.213.1.1.1.47.2024.2', 1, None, 'structured'),
    Expected('IMG-DA-IMG_2024.01_Radiographie_Echographie_SeinThorax.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '55115-0',
             "Demande d'acte d'imagerie",
             '2021-01-12T11:17:00+01:00', '801234567897', None,
             '101235555', 'HU ROBERT DEBRE APHP', 'N',
             '1.2.250.1.213.1.1.1.47.2024.3', 1, None, 'structured'),
    Expected('IMG-DA-IMG_2024.01_Radiographie_IRM_Genou.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '55115-0',
             "Demande d'acte d'imagerie",
             '2021-01-12T11:17:00+01:00', '801234567897', None,
             '101235555', 'HU ROBERT DEBRE APHP', 'N',
             '1.2.250.1.213.1.1.1.47.2024.4', 1, None, 'structured'),
    Expected('IMG-DA-IMG_2024.01_Radiographie_Scanner_Genou.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '55115-0',
             "Demande d'acte d'imagerie",
             '2021-01-12T11:17:00+01:00', '801234567897', None,
             '101235555', 'HU ROBERT DEBRE APHP', 'N',
             '1.2.250.1.213.1.1.1.47.2024.5', 1, None, 'structured'),
    Expected('IMG-DA-IMG_2024.01_TEP_Thorax.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '55115-0',
             "Demande d'acte d'imagerie",
             '2021-01-12T11:17:00+01:00', '801234567897', None,
             '101235555', 'HU ROBERT DEBRE APHP', 'N',
             '1.2.250.1.213.1.1.1.47.2024.7', 1, None, 'structured'),
    Expected('IPS-FR_2024.01_DLU.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '74207-2',
             'SYNTHESE MEDICALE',
             '2024-04-02T11:17:00+01:00', '801234567897', None,
             '1750803447', 'EHPAD DE BOULOGNE-BILLANCOURT', 'N',
             '1.2.250.1.213.1.1.1.51.2024.2', 2, 'AA2F476F-CA64-47BF-AED1-852692B493D9', 'structured'),
    Expected('OBP-SAP_2024.01.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '57055-6',
             'Synthèse antepartum',
             '2023-03-22T16:30:00+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.12.1.2024.1', 1, None, 'structured'),
    Expected('OBP-SCM_2024.01.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '89235-6',
             'Synthèse Suites de Couches Mère',
             '2021-03-28T11:17:00+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.12.4.2024.1', 1, None, 'structured'),
    Expected('OBP-SEM_2024.01.xml',
             '1.2.250.1.213.1.4.8', '223042545611404', '78489-2',
             'Synthèse Enfant en Maternité',
             '2023-04-28T11:17:00+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.12.5.2024.1', 1, None, 'structured'),
    Expected('OBP-SNM_2024.01.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '57057-2',
             'Synthèse Salle de Naissance Mère',
             '2023-04-25T11:17:00+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '1.2.250.1.213.1.1.1.12.2.2024.1', 1, None, 'structured'),
    Expected('OPH-BRE_2022.02.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '78513-9',
             'Ophtalmologie - Bilan de réfraction',
             '2021-08-27T09:30:00+01:00', '801234567897', None,
             '1120456789', 'Opticien du centre', 'N',
             '1.2.250.1.213.1.1.1.42.2022.1', 3,
             ('1.2.250.1.213.1.1.9', 'OPH-BRE_2021.01_20210827_00001_2'), 'structured'),
    Expected('OPH-CR-RTN_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '75492-9',
             'Ophtalmologie - Compte-rendu de rétinographie',
             '2021-11-04T16:05:28+01:00', '01234567897', None,
             '1123888725', 'Cabinet Orthoptiste', 'N',
             '1.2.250.1.213.1.1.1.18.2022.1', 1, None, 'structured'),
    Expected('SDM-MR_2022.01.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '34133-9',
             'Set de données minimum maladies rares (SDM-MR)',
             '2019-01-28T15:45:00+01:00', '801234567897', None,
             '1750803447', 'HU ROBERT DEBRE APHP', 'N',
             '1.2.250.1.213.1.1.1.30.2022.1', 1, None, 'structured'),
    Expected('SDM-MR_2024.01_nouveau-ne.xml',
             '1.2.250.1.213.1.4.10', '224027511583555', '34133-9',
             'Set de données minimum maladies rares (SDM-MR)',
             '2024-02-28T16:00:00+01:00', '801234567897', None,
             '1750803454', 'GHU APHP NUP SITE ROBERT DEBRE', 'N',
             '1.2.250.1.213.1.1.1.30.2024.1', 2, None, 'structured'),
    Expected('SDM-MR_2024.01_patiente-post-grossesse.xml',
             '1.2.250.1.213.1.4.10', '277076322082910', '34133-9',
             'Set de données minimum maladies rares (SDM-MR)',
             '2024-02-28T16:00:00+01:00', '801234567897', None,
             '1750803454', 'GHU APHP NUP SITE ROBERT DEBRE', 'N',
             '1.2.250.1.213.1.1.1.30.2024.3', 2, None, 'structured'),
    Expected('TLM-DA_2022.01_TCG.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '75496-0',
             'Demande de téléconsultation',
             '2021-03-27T15:35:00+01:00', '801234567897', None,
             '1120456789', 'Centre de soins le Belvédère', 'N',
             '1.2.250.1.213.1.1.1.38.2022.1', 2, None, 'structured'),
    Expected('eP-MED-DM_2022.01_PosoNonStruct.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '57833-6',
             'Prescription de médicaments et/ou de dispositifs médicaux',
             '2021-12-01T09:30:00+01:00', '801234567897', None,
             '1750512345', 'Cabinet du DR Pierre JOLI', 'N',
             '1.2.250.1.213.1.1.1.39.2022.1', 1, None, 'structured'),
    Expected('eP-MED-DM_2022.01_PosoStruct.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '57833-6',
             'Prescription de médicaments et/ou de dispositifs médicaux',
             '2021-12-01T09:30:00+01:00', '801234567897', None,
             '1750512345', 'Cabinet du DR Pierre JOLI', 'N',
             '1.2.250.1.213.1.1.1.39.2022.2', 1, None, 'structured'),
    Expected('eP-MED-DM_2023.01_PosoNonStruct.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '57833-6',
             'Prescription de médicaments et/ou de dispositifs médicaux',
             '2021-12-01T09:30:00+01:00', '801234567897', None,
             '1750512345', 'Cabinet du DR Pierre JOLI', 'N',
             '1.2.250.1.213.1.1.1.39.2023.1', 1, None, 'structured'),
    Expected('eP-MED-DM_2023.01_PosoStruct.xml',
             '1.2.250.1.213.1.4.10', '279035121518989', '57833-6',
             'Prescription de médicaments et/ou de dispositifs médicaux',
             '2021-12-01T09:30:00+01:00', '801234567897', None,
             '1750512345', 'Cabinet du DR Pierre JOLI', 'N',
             '1.2.250.1.213.1.1.1.39.2023.2', 1, None, 'structured'),
]

CI_SIS_241 = [
    Expected('ANEST-CR-ANEST_2021.01.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '77436-4',
             "Compte-rendu d'anesthésie",
             '2020-03-19T11:17:00+01:00', '801234567897', None,
             '1750803447', 'Hôpital Européen Georges Pompidou', 'N',
             '1EF3111D-5E47-4379-B0AB-BFABAA2F1B9D', 1, None, 'structured'),
    Expected('CNAM-HR_2021.01.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', 'REMB',
             'Données de remboursement',
             '2019-07-01T16:49:00+01:00', '518003502400041/1.2.250.1.215.1.2', 'Assurance Maladie',
             '318003502400041', 'Assurance Maladie', 'N',
             '06068847-7B66-4A0E-86CB-B7580377F221', 1, None, 'structured'),
    Expected('CR-BIO_2021.01_Auto-Presentable_avec-image.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '11502-2',
             "Compte rendu d'examens biologiques",
             '2021-04-01T17:10:00+02:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '9799B9FD-59F8-491F-AF9D-893830842467', 1, None, 'structured'),
    Expected('CR-BIO_2021.01_Electrophorese.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '11502-2',
             "Compte rendu d'examens biologiques",
             '2021-01-04T16:05:27+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '17940492-E5FF-41ED-B232-18E84FFE7A36', 1, None, 'structured'),
    Expected('CR-BIO_2021.01_Microbiologie_V1.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '11502-2',
             "Compte rendu d'examens biologiques",
             '2021-01-04T16:05:27+01:00', '801234534765', None,
             '1120459876', 'Laboratoire des charmes', 'N',
             '68BADE6C-7B31-442D-86F1-16633991A308', 1, None, 'structured'),
    Expected('CSE-CS9_2021.01.xml',
             '1.2.250.1.213.1.4.8', '209053105611201', 'CERT_DECL',
             'DEUXIEME CERTIFICAT DE SANTE (à établir obligatoirement au cours du 9ème mois)',
             '2021-02-11T09:49:14+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             '52C9FD4C-A901-494A-BED4-D1795FAFF37D', 1, None, 'structured'),
    Expected('DLU-DLU_2021.01.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '34133-9',
             "DOCUMENT DE LIAISON D'URGENCE",
             '2020-03-27T15:35:00+01:00', '801234567897', None,
             '101238887', 'EHPAD DE BOULOGNE-BILLANCOURT', 'N',
             '7562083D-75DE-40DB-9C17-2409E49DEAC6', 1, None, 'structured'),
    Expected('F-PRC-AVK_1.4.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '34133-9',
             'Fiche patient à risque en cardiologie - Traitement AVK',
             '2008-09-29T09:49:14+01:00', '801234567897', None,
             '1120456789', 'Centre Hospitalier DUNANT', 'N',
             '56BDC7E4-A250-4F3B-9941-A17A8CE0BA1B', 1, None, 'structured'),
    Expected('LDL-EES_2020.01.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '18761-7',
             "Lettre de liaison à l'entrée en établissement de santé",
             '2019-10-29T11:17:00+01:00', '801234567897', None,
             '1120456789', 'Centre de soins du Belvédère', 'N',
             'D21D12B8-17EB-46C9-AA88-9CC0FEFEB210', 1, None, 'structured'),
    Expected('OBP-SAP_2021.01.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '34133-9',
             'Synthèse antepartum',
             '2021-08-11T20:30:00+01:00', '801234567897', None,
             '1120456789', 'Clinique du Belvédère', 'N',
             'F2EAD3DA-E98A-47A4-89E7-CD0B0E98A600', 1, None, 'structured'),
    Expected('VAC-NOTE_2021.01.xml',
             '1.2.250.1.213.1.4.8', '277076322082910', '87273-9',
             'NOTE DE VACCINATION',
             '2021-04-09T15:35:00+01:00', '801234567897', None,
             '101238887', 'Cabinet médical du Dr MULLER', 'N',
             '1981E7F8-F41F-4B6F-8CC9-BAFAEE661C30', 1, None, 'structured'),
]

ROWS = [(CDA_30, row) for row in CI_SIS_30] + [(CDA_241, row) for row in CI_SIS_241]
BAD_KEY = {"CSE-CS24_2024.01.xml", "CSE-CS8_2024.01.xml", "CSE-CS9_2024.01.xml", "CSE-CS9_2025.01.xml",
           "CSE-MDE_2023.01.xml", "OBP-SEM_2024.01.xml", "SDM-MR_2024.01_nouveau-ne.xml", "CSE-CS9_2021.01.xml"}
NOT_RPPS = {"OPH-CR-RTN_2022.01.xml": "adeli", "CANCER-FRCP_2022.01_Appareil.xml": "siren"}


def _ii(value: str | tuple[str, str] | None) -> InstanceId | None:
    if value is None:
        return None
    return InstanceId(*value) if isinstance(value, tuple) else InstanceId(value)


def test_the_table_covers_every_sample_file():
    on_disk = {(p.parent, p.name) for folder in (CDA_30, CDA_241) for p in folder.glob("*.xml")}
    assert {(folder, row.file) for folder, row in ROWS} == on_disk
    assert (len(CI_SIS_30), len(CI_SIS_241)) == (57, 11)


@pytest.mark.parametrize(("folder", "row"), ROWS, ids=lambda v: v.file if isinstance(v, Expected) else v.name)
def test_sample_header_indexes_as_read_from_the_file(folder, row):
    header = read_header(folder / row.file)
    assert header.ins == InstanceId(row.ins_root, row.ins_extension)
    assert header.type is not None and header.type.code == row.type_code
    assert header.title == row.title
    assert header.effective_time == dt.datetime.fromisoformat(row.effective_time)
    assert header.effective_time.utcoffset() == dt.datetime.fromisoformat(row.effective_time).utcoffset()
    author = header.authors[0]
    assert author.national_id == row.author_national_id
    expected_rpps = None
    if row.author_national_id and row.author_national_id.startswith("8"):
        expected_rpps = row.author_national_id[1:]
    assert author.rpps == expected_rpps
    assert author.device == row.author_device
    if row.author_device:
        assert author.name is None
    else:
        assert author.name
    assert header.custodian is not None
    assert header.custodian.id == InstanceId("1.2.250.1.71.4.2.2", row.custodian_id)
    assert header.custodian.name == row.custodian_name
    assert header.confidentiality is not None and header.confidentiality.code == row.confidentiality
    assert header.set_id == _ii(row.set_id)
    assert header.version_number == row.version
    assert header.replaces == _ii(row.replaces)
    assert header.body_kind == row.body


@pytest.mark.parametrize(("folder", "row"), ROWS, ids=lambda v: v.file if isinstance(v, Expected) else v.name)
def test_sample_ins_is_flagged_deliberately(folder, row):
    check = read_header(folder / row.file).ins_check
    assert check.oid == row.ins_root and check.value == row.ins_extension
    assert check.test is (row.ins_root == "1.2.250.1.213.1.4.10")
    if row.file in BAD_KEY:
        assert (check.problem, check.valid, check.nir) == ("bad_key", False, None)
    else:
        assert (check.problem, check.nir) == (None, row.ins_extension)


def test_which_first_authors_are_not_identified_by_rpps():
    kinds = {}
    for folder, row in ROWS:
        author = read_header(folder / row.file).authors[0]
        if author.rpps is None:
            kinds[row.file] = author.national_id_kind
    assert kinds == {**NOT_RPPS, "CNAM-HR_2021.01.xml": "siret"}  # "5" + the CNAM's SIRET


@pytest.mark.parametrize(("ids", "expected"), [
    # a test id first, then the production one: the production INS is the one that identifies
    ('<id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>'
     '<id root="1.2.250.1.213.1.4.8" extension="277076322082910"/>', ("1.2.250.1.213.1.4.8", None, False)),
    ('<id root="1.2.3.4" extension="12"/>', (None, "missing", False)),
    ('<id root="1.2.250.1.213.1.4.8" extension="2770763220829"/>', ("1.2.250.1.213.1.4.8", "malformed", False)),
    ('<id root="1.2.250.1.213.1.4.10" extension="279035121518988"/>', ("1.2.250.1.213.1.4.10", "bad_key", True)),
])
def test_ins_choice_and_flags_on_hand_made_headers(ids, expected):
    header_xml = CDA_HEADER.replace('<id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>', ids)
    check = read_header(cda(structured("<title>A</title>"), header=header_xml)).ins_check
    assert (check.oid, check.problem, check.test) == expected
