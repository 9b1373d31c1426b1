/* C-ECHO and C-STORE through DCMTK's dcmnet (C++17), behind vigil-dicom-send.h.
 * Sending uses DcmStorageSCU, which proposes a presentation context per SOP
 * class and transfer syntax read from the files' meta headers. DcmSCU keeps
 * its association parameters private, so the reason of a rejection is not
 * reachable from it: a rejected send asks again with a Verification-only
 * association (the echo below, on dcmnet's ASC layer), whose reject
 * parameters we can read. */
#include "vigil-dicom-send.h"

#include <dcmtk/config/osconfig.h>
/* osconfig first */
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/dstorscu.h>
#include <dcmtk/oflog/oflog.h>

#include <string>
#include <vector>

/* clang-format would put spaces around the dashes of the quark name. */
/* clang-format off */
G_DEFINE_QUARK(vigil-pacs-error-quark, vigil_pacs_error)
/* clang-format on */

namespace {

/* DcmStorageSCU's private "pending" codes for an instance it could not send. */
constexpr Uint16 kNoPresentationContext = 0xffff;
constexpr Uint16 kInvalidDataset = 0xfffe;
constexpr int kMaxTimeout = 3600;

void init_dcmnet() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    /* Errors are reported through GError; DCMTK's own log would be noise. */
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    g_once_init_leave(&once, 1);
  }
}

gboolean fail(GError **error, int code, const char *format, ...) G_GNUC_PRINTF(3, 4);
gboolean fail(GError **error, int code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  g_autofree char *msg = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error_literal(error, VIGIL_PACS_ERROR, code, msg);
  return FALSE;
}

const char *calling_aet(const VigilPacsPeer *peer) {
  return peer->calling_aet && *peer->calling_aet ? peer->calling_aet
                                                 : VIGIL_PACS_DEFAULT_CALLING_AET;
}

int timeout_s(const VigilPacsPeer *peer) {
  return peer->timeout_s > 0 ? peer->timeout_s : VIGIL_PACS_DEFAULT_TIMEOUT;
}

gboolean check_ae_title(const char *what, const char *aet, GError **error) {
  if (!aet || !*aet)
    return fail(error, VIGIL_PACS_ERROR_INVALID_PEER, "the %s AE title is empty", what);
  const size_t n = strlen(aet);
  if (n > 16)
    return fail(error, VIGIL_PACS_ERROR_INVALID_PEER,
                "the %s AE title \"%s\" is %zu characters long; DICOM allows at most 16", what, aet,
                n);
  size_t first = 0, last = n;
  while (first < n && aet[first] == ' ')
    first++;
  while (last > first && aet[last - 1] == ' ')
    last--;
  if (first == last)
    return fail(error, VIGIL_PACS_ERROR_INVALID_PEER, "the %s AE title is only spaces", what);
  for (size_t i = 0; i < n; i++) {
    const unsigned char c = (unsigned char)aet[i];
    if (c < 0x20 || c > 0x7e || c == '\\' || (c == ' ' && i > first && i < last))
      return fail(error, VIGIL_PACS_ERROR_INVALID_PEER,
                  "the %s AE title \"%s\" has a character DICOM does not allow in AE titles "
                  "(printable ASCII without backslash, spaces only at the ends)",
                  what, aet);
  }
  return TRUE;
}

/* ---- errors from dcmnet ---------------------------------------------------- */

const char *reject_reason(const T_ASC_RejectParameters &rej) {
  switch (rej.reason) {
  case ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED:
    return "the node does not recognise the called AE title";
  case ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED:
    return "the node does not recognise our (calling) AE title";
  case ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED:
    return "the node does not support the DICOM application context";
  case ASC_REASON_SP_ACSE_PROTOCOLVERSIONNOTSUPPORTED:
    return "the node does not support our protocol version";
  case ASC_REASON_SP_PRES_TEMPORARYCONGESTION: return "the node is congested; try again later";
  case ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED:
    return "the node has too many associations open; try again later";
  default: return "the node gave no reason";
  }
}

gboolean rejected(GError **error, const char *node, const T_ASC_RejectParameters &rej) {
  const bool transient = rej.result == ASC_RESULT_REJECTEDTRANSIENT;
  return fail(error, VIGIL_PACS_ERROR_REJECTED, "%s rejected the association (%s): %s", node,
              transient ? "transient" : "permanent", reject_reason(rej));
}

bool mentions(const OFCondition &c, const char *word) {
  g_autofree char *text = g_ascii_strdown(c.text(), -1);
  return strstr(text, word) != nullptr;
}

/* A failed network step as a GError naming the node and what was being done. */
gboolean network_fail(GError **error, const OFCondition &c, const char *node, int timeout,
                      const char *doing) {
  if (c.module() == OFM_dcmnet && c.code() == DULC_UNKNOWNHOST)
    return fail(error, VIGIL_PACS_ERROR_HOST_NOT_FOUND, "%s: host not found (%s)", node, c.text());
  if (mentions(c, "refused"))
    return fail(error, VIGIL_PACS_ERROR_REFUSED,
                "%s: connection refused (nothing listens on that host and port)", node);
  if (c == DUL_READTIMEOUT || c == DIMSE_NODATAAVAILABLE || mentions(c, "timed out") ||
      mentions(c, "timeout"))
    return fail(error, VIGIL_PACS_ERROR_TIMEOUT, "%s: no answer within %d s while %s", node,
                timeout, doing);
  return fail(error, VIGIL_PACS_ERROR_NETWORK, "%s: failed while %s: %s", node, doing, c.text());
}

gboolean cancelled(GCancellable *cancellable, GError **error) {
  return g_cancellable_set_error_if_cancelled(cancellable, error);
}

/* ---- C-ECHO on the ASC layer ---------------------------------------------- */

/* The network, parameters and association of one echo, released in order. */
struct Echo {
  T_ASC_Network *net = nullptr;
  T_ASC_Parameters *params = nullptr;
  T_ASC_Association *assoc = nullptr;

  ~Echo() {
    if (assoc)
      ASC_destroyAssociation(&assoc); /* frees params too */
    else if (params)
      ASC_destroyAssociationParameters(&params);
    if (net)
      ASC_dropNetwork(&net);
  }
};

OFCondition echo_request(Echo &e, const VigilPacsPeer *peer, int timeout) {
  OFCondition c = ASC_initializeNetwork(NET_REQUESTOR, 0, timeout, &e.net);
  if (c.good())
    c = ASC_createAssociationParameters(&e.params, ASC_DEFAULTMAXPDU);
  if (c.bad())
    return c;
  ASC_setAPTitles(e.params, calling_aet(peer), peer->called_aet, nullptr);
  g_autofree char *address = g_strdup_printf("%s:%d", peer->host, peer->port);
  ASC_setPresentationAddresses(e.params, "localhost", address);
  const char *syntaxes[] = {UID_LittleEndianExplicitTransferSyntax,
                            UID_LittleEndianImplicitTransferSyntax};
  c = ASC_addPresentationContext(e.params, 1, UID_VerificationSOPClass, syntaxes, 2);
  if (c.good()) {
    dcmConnectionTimeout.set(timeout);
    c = ASC_requestAssociation(e.net, e.params, &e.assoc);
  }
  return c;
}

gboolean echo(const VigilPacsPeer *peer, const char *node, GCancellable *cancellable,
              GError **error) {
  const int timeout = timeout_s(peer);
  Echo e;
  OFCondition c = echo_request(e, peer, timeout);
  if (c == DUL_ASSOCIATIONREJECTED) {
    T_ASC_RejectParameters rej;
    ASC_getRejectParameters(e.params, &rej);
    return rejected(error, node, rej);
  }
  if (c.bad())
    return network_fail(error, c, node, timeout, "connecting");
  if (cancelled(cancellable, error)) {
    ASC_abortAssociation(e.assoc);
    return FALSE;
  }
  if (ASC_countAcceptedPresentationContexts(e.params) == 0) {
    ASC_abortAssociation(e.assoc);
    return fail(error, VIGIL_PACS_ERROR_REJECTED,
                "%s accepted the association but not Verification (C-ECHO)", node);
  }
  DIC_US status = 0;
  DcmDataset *detail = nullptr;
  c = DIMSE_echoUser(e.assoc, e.assoc->nextMsgID++, DIMSE_NONBLOCKING, timeout, &status, &detail);
  delete detail;
  if (c.bad()) {
    ASC_abortAssociation(e.assoc);
    return network_fail(error, c, node, timeout, "waiting for the C-ECHO answer");
  }
  ASC_releaseAssociation(e.assoc);
  if (status != STATUS_Success)
    return fail(error, VIGIL_PACS_ERROR_NETWORK, "%s answered the C-ECHO with status 0x%04X (%s)",
                node, status, DU_cechoStatusString(status));
  return TRUE;
}

} // namespace

extern "C" {

gboolean vigil_pacs_peer_validate(const VigilPacsPeer *peer, GError **error) {
  if (!peer->host || !*peer->host)
    return fail(error, VIGIL_PACS_ERROR_INVALID_PEER, "no host name or address given");
  for (const char *p = peer->host; *p; p++)
    if (g_ascii_isspace(*p) || g_ascii_iscntrl(*p))
      return fail(error, VIGIL_PACS_ERROR_INVALID_PEER,
                  "the host name \"%s\" has a space or control character", peer->host);
  if (peer->port < 1 || peer->port > 65535)
    return fail(error, VIGIL_PACS_ERROR_INVALID_PEER, "port %d is not in 1..65535", peer->port);
  if (peer->timeout_s < 0 || peer->timeout_s > kMaxTimeout)
    return fail(error, VIGIL_PACS_ERROR_INVALID_PEER, "timeout %d s is not in 0..%d",
                peer->timeout_s, kMaxTimeout);
  return check_ae_title("called", peer->called_aet, error) &&
         check_ae_title("calling", calling_aet(peer), error);
}

char *vigil_pacs_peer_describe(const VigilPacsPeer *peer) {
  return g_strdup_printf("%s@%s:%d", peer->called_aet ? peer->called_aet : "",
                         peer->host ? peer->host : "", peer->port);
}

gboolean vigil_pacs_echo(const VigilPacsPeer *peer, GCancellable *cancellable, GError **error) {
  if (!vigil_pacs_peer_validate(peer, error) || cancelled(cancellable, error))
    return FALSE;
  init_dcmnet();
  g_autofree char *node = vigil_pacs_peer_describe(peer);
  return echo(peer, node, cancellable, error);
}

} // extern "C"

/* ---- C-STORE through DcmStorageSCU ---------------------------------------- */

namespace {

struct FileResult {
  std::string path, sop_class, syntax;
  bool reported = false, stored = false;
  std::string status; /* in words */
};

std::string uid_name(const std::string &uid) {
  return dcmFindNameOfUID(uid.c_str(), uid.c_str());
}

std::string store_status(const FileResult &f, Uint16 code) {
  if (code == kNoPresentationContext)
    return "not sent: the node accepts no " + uid_name(f.sop_class) + " in " +
           DcmXfer(f.syntax.c_str()).getXferName();
  if (code == kInvalidDataset)
    return "not sent: the file could not be read again";
  g_autofree char *text = g_strdup_printf("status 0x%04X (%s)", code, DU_cstoreStatusString(code));
  if (code == STATUS_Success)
    return "stored";
  if (DICOM_WARNING_STATUS(code))
    return std::string("stored with warning ") + text;
  return std::string("failed: ") + text;
}

/* Part 10 files start with a 128-byte preamble and "DICM". */
bool has_dicm(const char *path) {
  char head[132];
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  const bool ok =
      fread(head, 1, sizeof head, f) == sizeof head && memcmp(head + 128, "DICM", 4) == 0;
  fclose(f);
  return ok;
}

class Sender : public DcmStorageSCU {
public:
  Sender(GCancellable *cancellable, VigilPacsProgress progress, gpointer user_data)
      : cancellable_(cancellable), progress_(progress), user_data_(user_data) {}

  std::vector<FileResult> files;
  /* The last file failed alone (no context for it, unreadable), the
   * association is intact: DcmStorageSCU stopped, send_all goes on. */
  bool skipped = false;

  void report(size_t i, bool stored, std::string status) {
    FileResult &f = files[i];
    f.reported = true;
    f.stored = stored;
    f.status = std::move(status);
    if (progress_)
      progress_((guint)i, (guint)files.size(), f.path.c_str(), f.stored, f.status.c_str(),
                user_data_);
  }

  /* The node accepted none of the contexts proposed: DcmStorageSCU marks the
   * batch's files without telling us; with at most 128 contexts per batch
   * that is every file not yet reported (the rare second batch included). */
  void report_unaccepted() {
    for (size_t i = 0; i < files.size(); i++)
      if (!files[i].reported)
        report(i, false, store_status(files[i], kNoPresentationContext));
  }

  /* Adds one file; its UIDs come through checkSOPInstance below. */
  gboolean add(const char *path, GError **error) {
    files.push_back(FileResult{path, "", "", false, false, ""});
    OFCondition c = addDicomFile(OFFilename(path), ERM_fileOnly, OFTrue);
    if (c.good())
      return TRUE;
    files.pop_back();
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
      return fail(error, VIGIL_PACS_ERROR_NOT_DICOM, "%s: no such file; nothing was sent", path);
    if (!has_dicm(path))
      return fail(error, VIGIL_PACS_ERROR_NOT_DICOM,
                  "%s: not a DICOM file (no DICOM file meta header); nothing was sent", path);
    return fail(error, VIGIL_PACS_ERROR_NOT_DICOM,
                "%s: a DICOM file that cannot be sent (%s); nothing was sent", path, c.text());
  }

protected:
  OFCondition checkSOPInstance(const OFString &sop_class, const OFString &sop_instance,
                               const OFString &syntax, const OFBool check_values) override {
    files.back().sop_class = sop_class.c_str();
    files.back().syntax = syntax.c_str();
    return DcmStorageSCU::checkSOPInstance(sop_class, sop_instance, syntax, check_values);
  }

  void notifySOPInstanceSent(const TransferEntry &entry) override {
    const char *name = entry.Filename.getCharPointer();
    for (size_t i = 0; i < files.size(); i++) {
      FileResult &f = files[i];
      if (f.reported || f.path != name)
        continue;
      report_sent(i, entry);
      return;
    }
  }

  /* A file never sent was refused by DcmSCU for want of an accepted context,
   * or could not be loaded (then no association number was given to it). */
  void report_sent(size_t i, const TransferEntry &entry) {
    OFString accepted_class, accepted_syntax;
    findPresentationContext(entry.PresentationContextID, accepted_class, accepted_syntax);
    const bool unaccepted = !entry.RequestSent && accepted_class.empty();
    const bool unreadable = !entry.RequestSent && !unaccepted && entry.AssociationNumber == 0;
    skipped = unaccepted || unreadable;
    if (unreadable)
      report(i, false, "not sent: the file could not be read as DICOM");
    else if (entry.RequestSent || unaccepted) {
      const Uint16 code = unaccepted ? kNoPresentationContext : entry.ResponseStatusCode;
      report(i, code == STATUS_Success || DICOM_WARNING_STATUS(code), store_status(files[i], code));
    } else
      report(i, false, "not sent");
  }

  OFBool shouldStopAfterCurrentSOPInstance() override {
    return g_cancellable_is_cancelled(cancellable_);
  }

private:
  GCancellable *cancellable_;
  VigilPacsProgress progress_;
  gpointer user_data_;
};

void configure(Sender &scu, const VigilPacsPeer *peer) {
  const int timeout = timeout_s(peer);
  scu.setAETitle(calling_aet(peer));
  scu.setPeerHostName(peer->host);
  scu.setPeerPort((Uint16)peer->port);
  scu.setPeerAETitle(peer->called_aet);
  scu.setConnectionTimeout(timeout);
  scu.setACSETimeout((Uint32)timeout);
  scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING); /* the DIMSE timeout applies only so */
  scu.setDIMSETimeout((Uint32)timeout);
}

/* A failed association: the reason of a rejection comes from a second try. */
gboolean association_fail(GError **error, const OFCondition &c, const VigilPacsPeer *peer,
                          const char *node) {
  if (c == DUL_ASSOCIATIONREJECTED) {
    GError *probe = nullptr;
    if (!echo(peer, node, nullptr, &probe) && probe->code == VIGIL_PACS_ERROR_REJECTED) {
      g_propagate_error(error, probe);
      return FALSE;
    }
    g_clear_error(&probe);
    return fail(error, VIGIL_PACS_ERROR_REJECTED,
                "%s rejected the association for storage (it accepts a C-ECHO)", node);
  }
  return network_fail(error, c, node, timeout_s(peer), "connecting");
}

/* One association per batch of presentation contexts (at most 128 each). */
gboolean send_all(Sender &scu, const VigilPacsPeer *peer, const char *node,
                  GCancellable *cancellable, GError **error) {
  OFCondition c;
  while ((c = scu.addPresentationContexts()).good()) {
    if (cancelled(cancellable, error))
      return FALSE;
    c = scu.initNetwork(); /* takes the contexts just added */
    if (c.bad())
      return network_fail(error, c, node, timeout_s(peer), "starting the network");
    c = scu.negotiateAssociation();
    if (c == NET_EC_NoAcceptablePresentationContexts) {
      scu.abortAssociation();
      scu.report_unaccepted();
      continue;
    }
    if (c.bad())
      return association_fail(error, c, peer, node);
    do { /* past files that failed alone */
      scu.skipped = false;
      c = scu.sendSOPInstances();
    } while (c.bad() && scu.skipped && !g_cancellable_is_cancelled(cancellable));
    if (cancelled(cancellable, error)) {
      scu.abortAssociation();
      return FALSE;
    }
    if (c.bad()) {
      scu.abortAssociation();
      return network_fail(error, c, node, timeout_s(peer), "sending");
    }
    scu.releaseAssociation();
  }
  if (c != NET_EC_NoPresentationContextsDefined)
    return fail(error, VIGIL_PACS_ERROR_NETWORK, "%s: cannot propose the files' formats: %s", node,
                c.text());
  return TRUE;
}

/* All stored, or an error listing each file that was not and why. */
gboolean check_results(const std::vector<FileResult> &files, const char *node, GError **error) {
  g_autoptr(GString) failed = g_string_new(NULL);
  guint n_failed = 0;
  for (const FileResult &f : files) {
    if (f.stored)
      continue;
    n_failed++;
    g_string_append_printf(failed, "\n  %s: %s", f.path.c_str(),
                           f.reported ? f.status.c_str() : "not sent");
  }
  if (n_failed == 0)
    return TRUE;
  return fail(error, VIGIL_PACS_ERROR_STORE_FAILED, "%s did not store %u of %zu file(s):%s", node,
              n_failed, files.size(), failed->str);
}

/* A send that stopped part way says what already arrived (a retry sends it again). */
gboolean note_stored(const std::vector<FileResult> &files, GError **error) {
  size_t stored = 0;
  for (const FileResult &f : files)
    stored += f.stored;
  if (error && *error && stored > 0) {
    char *msg = g_strdup_printf("%s (%zu of %zu file(s) were stored before)", (*error)->message,
                                stored, files.size());
    g_free((*error)->message);
    (*error)->message = msg;
  }
  return FALSE;
}

} // namespace

extern "C" gboolean vigil_pacs_send(const VigilPacsPeer *peer, const char *const *paths,
                                    VigilPacsProgress progress, gpointer user_data,
                                    GCancellable *cancellable, GError **error) {
  if (!vigil_pacs_peer_validate(peer, error) || cancelled(cancellable, error))
    return FALSE;
  if (!paths || !paths[0])
    return fail(error, VIGIL_PACS_ERROR_NOT_DICOM, "no files to send");
  init_dcmnet();
  g_autofree char *node = vigil_pacs_peer_describe(peer);
  Sender scu(cancellable, progress, user_data);
  configure(scu, peer);
  for (int i = 0; paths[i]; i++)
    if (!scu.add(paths[i], error))
      return FALSE;
  if (!send_all(scu, peer, node, cancellable, error))
    return note_stored(scu.files, error);
  return check_results(scu.files, node, error);
}
