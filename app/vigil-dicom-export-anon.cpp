/* De-identification of the source slice before any object copies from it,
 * after PS3.15 Annex E's Basic Application Confidentiality Profile for the
 * attributes Vigil writes (the patient, study and series modules, the
 * equipment that DCMTK's imports take, the references): identifying
 * attributes are removed (the writers put empty type 2 ones back: the
 * patient has an empty name and a generated ID), private attributes go, and
 * every instance UID is replaced by a keyed hash, so that the objects of one
 * report (one key) still reference each other and the same replaced source,
 * but none of them reveals the source's UIDs. Geometry is kept.
 * See vigil-dicom-export.h. */
#include "vigil-dicom-export-private.h"

#include <dcmtk/dcmdata/dcsequen.h>

#include <string>

namespace vigil_export {

namespace {

/* Removed wherever they occur: the basic profile's X, Z and D actions for
 * what DCMTK's patient, study, series and equipment imports and our copies
 * could carry (Z and D ones come back empty where the IOD wants them). */
const DcmTagKey kRemoved[] = {
    /* patient */
    DCM_PatientName, DCM_PatientID, DCM_IssuerOfPatientID, DCM_IssuerOfPatientIDQualifiersSequence,
    DCM_PatientBirthDate, DCM_PatientBirthTime, DCM_PatientSex, DCM_PatientAge, DCM_PatientSize,
    DCM_PatientWeight, DCM_PatientAddress, DCM_PatientTelephoneNumbers, DCM_PatientBirthName,
    DCM_PatientMotherBirthName, DCM_RETIRED_OtherPatientIDs, DCM_OtherPatientIDsSequence,
    DCM_OtherPatientNames, DCM_EthnicGroup, DCM_Occupation, DCM_AdditionalPatientHistory,
    DCM_PatientComments, DCM_RETIRED_MedicalRecordLocator, DCM_MilitaryRank, DCM_BranchOfService,
    DCM_CountryOfResidence, DCM_RegionOfResidence, DCM_ResponsiblePerson,
    DCM_ResponsibleOrganization, DCM_PatientReligiousPreference,
    DCM_PatientInsurancePlanCodeSequence, DCM_ReferencedPatientSequence, DCM_PatientState,
    DCM_PregnancyStatus, DCM_SmokingStatus, DCM_MedicalAlerts, DCM_Allergies, DCM_SpecialNeeds,
    DCM_LastMenstrualDate, DCM_PatientSexNeutered, DCM_PatientIdentityRemoved,
    DCM_DeidentificationMethod, DCM_DeidentificationMethodCodeSequence,
    /* study */
    DCM_StudyDate, DCM_StudyTime, DCM_StudyID, DCM_AccessionNumber,
    DCM_IssuerOfAccessionNumberSequence, DCM_StudyDescription, DCM_ReferringPhysicianName,
    DCM_ReferringPhysicianAddress, DCM_ReferringPhysicianTelephoneNumbers,
    DCM_ReferringPhysicianIdentificationSequence, DCM_PhysiciansOfRecord,
    DCM_PhysiciansOfRecordIdentificationSequence, DCM_NameOfPhysiciansReadingStudy,
    DCM_PhysiciansReadingStudyIdentificationSequence, DCM_RequestingPhysician,
    DCM_RequestingService, DCM_ReferencedStudySequence, DCM_AdmittingDiagnosesDescription,
    DCM_AdmittingDiagnosesCodeSequence, DCM_AdmissionID, DCM_RETIRED_ReasonForStudy,
    DCM_RequestedProcedureDescription, DCM_RequestedProcedureID,
    /* series and acquisition */
    DCM_SeriesDate, DCM_SeriesTime, DCM_AcquisitionDate, DCM_AcquisitionTime,
    DCM_AcquisitionDateTime, DCM_ContentDate, DCM_ContentTime, DCM_InstanceCreationDate,
    DCM_InstanceCreationTime, DCM_SeriesDescription, DCM_ProtocolName, DCM_OperatorsName,
    DCM_OperatorIdentificationSequence, DCM_PerformingPhysicianName,
    DCM_PerformingPhysicianIdentificationSequence, DCM_ReferencedPerformedProcedureStepSequence,
    DCM_RequestAttributesSequence, DCM_PerformedProcedureStepID,
    DCM_PerformedProcedureStepStartDate, DCM_PerformedProcedureStepStartTime,
    DCM_PerformedProcedureStepDescription, DCM_ImageComments, DCM_DerivationDescription,
    /* equipment */
    DCM_InstitutionName, DCM_InstitutionAddress, DCM_InstitutionalDepartmentName,
    DCM_InstitutionCodeSequence, DCM_StationName, DCM_DeviceSerialNumber,
    /* clinical trial */
    DCM_ClinicalTrialSponsorName, DCM_ClinicalTrialProtocolID, DCM_ClinicalTrialProtocolName,
    DCM_ClinicalTrialSiteID, DCM_ClinicalTrialSiteName, DCM_ClinicalTrialSubjectID,
    DCM_ClinicalTrialSubjectReadingID, DCM_ClinicalTrialTimePointID,
    DCM_ClinicalTrialTimePointDescription, DCM_ClinicalTrialCoordinatingCenterName};

/* Instance UIDs (never class UIDs, which name what an object is). */
const DcmTagKey kRemapped[] = {DCM_StudyInstanceUID,
                               DCM_SeriesInstanceUID,
                               DCM_SOPInstanceUID,
                               DCM_FrameOfReferenceUID,
                               DCM_ReferencedSOPInstanceUID,
                               DCM_ReferencedFrameOfReferenceUID,
                               DCM_RETIRED_RelatedFrameOfReferenceUID,
                               DCM_SynchronizationFrameOfReferenceUID,
                               DCM_DimensionOrganizationUID,
                               DCM_ConcatenationUID,
                               DCM_IrradiationEventUID,
                               DCM_UID,
                               DCM_InstanceCreatorUID,
                               DCM_StorageMediaFileSetUID,
                               DCM_ReferencedSOPInstanceUIDInFile};

bool remapped(const DcmTagKey &tag) {
  for (const DcmTagKey &t : kRemapped)
    if (t == tag)
      return true;
  return false;
}

/* The first 16 bytes of HMAC-SHA256(key, text). */
void keyed_hash(const std::string &key, const OFString &text, guint8 out[16]) {
  GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)key.data(), key.size());
  g_hmac_update(hmac, (const guchar *)text.c_str(), (gssize)text.size());
  guint8 digest[32];
  gsize len = sizeof digest;
  g_hmac_get_digest(hmac, digest, &len);
  g_hmac_unref(hmac);
  memcpy(out, digest, 16);
}

/* A 16-byte big-endian number in decimal (long division by 10). */
std::string decimal(guint8 n[16]) {
  std::string digits;
  bool zero = false;
  while (!zero) {
    unsigned rest = 0;
    zero = true;
    for (int i = 0; i < 16; i++) {
      const unsigned v = rest * 256 + n[i];
      n[i] = (guint8)(v / 10), rest = v % 10;
      zero = zero && n[i] == 0;
    }
    digits.insert(digits.begin(), (char)('0' + rest));
  }
  return digits;
}

/* Each value of a UI element replaced; the rest of the item walked into. */
void scrub_item(DcmItem &item, const std::string &key) {
  OFVector<DcmElement *> privates;
  for (unsigned long i = 0; i < item.card(); i++) {
    DcmElement *e = item.getElement(i);
    OFString values;
    if (e->getTag().isPrivate()) {
      privates.push_back(e);
    } else if (e->ident() == EVR_SQ) {
      DcmSequenceOfItems *sq = OFstatic_cast(DcmSequenceOfItems *, e);
      for (unsigned long j = 0; j < sq->card(); j++)
        scrub_item(*sq->getItem(j), key);
    } else if (remapped(e->getTag()) && e->getOFStringArray(values).good() && !values.empty()) {
      gchar **uids = g_strsplit(values.c_str(), "\\", -1);
      std::string out;
      for (int v = 0; uids[v]; v++)
        out += (v ? "\\" : "") + anonymous_uid(key, uids[v]);
      g_strfreev(uids);
      e->putOFStringArray(out.c_str());
    }
  }
  for (DcmElement *e : privates)
    delete item.remove(e);
}

} // namespace

std::string anonymous_uid(const std::string &key, const OFString &uid) {
  guint8 n[16];
  keyed_hash(key, uid, n);
  n[6] = (guint8)((n[6] & 0x0f) | 0x80), n[8] = (guint8)((n[8] & 0x3f) | 0x80); /* UUID v8 */
  return "2.25." + decimal(n);
}

void deidentify_source(Source &src, const char *key) {
  g_autofree char *random = key ? NULL : g_uuid_string_random();
  src.anonymised = true;
  src.key = key ? key : random;
  OFString id;
  src.ds->findAndGetOFString(DCM_PatientID, id);
  for (const DcmTagKey &tag : kRemoved)
    src.ds->findAndDeleteElement(tag, OFTrue, OFTrue);
  scrub_item(*src.ds, src.key);
  guint8 n[16];
  keyed_hash(src.key, "patient " + id, n);
  g_autofree char *hex = g_strdup_printf("%02X%02X%02X%02X%02X%02X%02X%02X", n[0], n[1], n[2], n[3],
                                         n[4], n[5], n[6], n[7]);
  src.ds->putAndInsertOFStringArray(DCM_PatientID, OFString("VIGIL-") + hex);
}

OFCondition mark_deidentified(DcmItem &out) {
  DcmItem *code = nullptr;
  OFCondition c = out.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
  if (c.good())
    c = out.putAndInsertString(DCM_DeidentificationMethod,
                               "Basic Application Confidentiality Profile (Vigil)");
  if (c.good())
    c = out.findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, code, 0);
  if (c.good())
    c = code->putAndInsertString(DCM_CodeValue, "113100");
  if (c.good())
    c = code->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
  if (c.good())
    c = code->putAndInsertString(DCM_CodeMeaning, "Basic Application Confidentiality Profile");
  /* The study and acquisition dates are gone. */
  if (c.good())
    c = out.putAndInsertString(DCM_LongitudinalTemporalInformationModified, "REMOVED");
  return c;
}

} // namespace vigil_export
