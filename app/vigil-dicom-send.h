/* Sending DICOM files to a PACS: C-ECHO ("test connection") and C-STORE
 * through DCMTK's dcmnet (DcmStorageSCU), behind a C API. Both calls block:
 * run them on a worker (VigilJob). Cancelling aborts the association between
 * two files; a step in progress (connecting, one file's transfer, waiting for
 * an answer) ends at the latest after the peer's timeout. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VIGIL_PACS_ERROR (vigil_pacs_error_quark())
GQuark vigil_pacs_error_quark(void);

typedef enum {
  VIGIL_PACS_ERROR_INVALID_PEER,   /* host, port, AE title or timeout out of range */
  VIGIL_PACS_ERROR_HOST_NOT_FOUND, /* the host name does not resolve */
  VIGIL_PACS_ERROR_REFUSED,        /* nothing listens on that port */
  VIGIL_PACS_ERROR_TIMEOUT,        /* no answer within the timeout */
  VIGIL_PACS_ERROR_REJECTED,       /* the node rejected the association (reason in the message) */
  VIGIL_PACS_ERROR_NETWORK,        /* any other network or protocol failure */
  VIGIL_PACS_ERROR_NOT_DICOM,      /* a file is unreadable or not a DICOM instance */
  VIGIL_PACS_ERROR_STORE_FAILED,   /* the node did not store a file (status in the message) */
} VigilPacsError;

#define VIGIL_PACS_DEFAULT_PORT 104
#define VIGIL_PACS_DEFAULT_CALLING_AET "VIGIL"
#define VIGIL_PACS_DEFAULT_TIMEOUT 30

/* A DICOM node. Strings belong to the caller. */
typedef struct {
  const char *host;
  int port;                /* 1..65535 */
  const char *called_aet;  /* the node's AE title */
  const char *calling_aet; /* ours; NULL or "" is VIGIL_PACS_DEFAULT_CALLING_AET */
  int timeout_s;           /* connect, association and each answer; 0 is the default */
} VigilPacsPeer;

/* Checks the peer before any network use: a host, a port in 1..65535, AE
 * titles of 1 to 16 printable ASCII characters without a backslash (spaces
 * only at the ends, where DICOM ignores them), a timeout in 0..3600 s. */
gboolean vigil_pacs_peer_validate(const VigilPacsPeer *peer, GError **error);

/* "AE@host:port", as messages name the node; free with g_free. */
char *vigil_pacs_peer_describe(const VigilPacsPeer *peer);

/* Verification (C-ECHO): TRUE when the node accepted an association from us
 * and answered the echo with success. */
gboolean vigil_pacs_echo(const VigilPacsPeer *peer, GCancellable *cancellable, GError **error);

/* After each file: its index among n_files, whether the node stored it
 * (success, or a warning status), and its status in words. Called on the
 * sending thread. */
typedef void (*VigilPacsProgress)(guint index, guint n_files, const char *path, gboolean stored,
                                  const char *status, gpointer user_data);

/* C-STORE of every file in the NULL-terminated `paths`, proposing each file's
 * SOP class and transfer syntax. All files are read first: when one is not
 * DICOM, nothing is sent. TRUE when the node stored every file; otherwise the
 * error names the files that were not stored and why (the others were). */
gboolean vigil_pacs_send(const VigilPacsPeer *peer, const char *const *paths,
                         VigilPacsProgress progress, gpointer user_data, GCancellable *cancellable,
                         GError **error);

G_END_DECLS
