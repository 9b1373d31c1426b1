/* VigilSession: what a user has open and has decided, saved as a `.vigil`
 * JSON file so reopening restores it, and autosaved so a crash loses nothing. */
#pragma once

#include <glib.h>

#include "vigil-orientation.h"

G_BEGIN_DECLS

#define VIGIL_SESSION_ERROR (vigil_session_error_quark())
GQuark vigil_session_error_quark(void);

typedef enum {
  VIGIL_SESSION_ERROR_IO,
  VIGIL_SESSION_ERROR_FORMAT,  /* not JSON, or not a Vigil session */
  VIGIL_SESSION_ERROR_VERSION, /* written by a newer Vigil */
} VigilSessionError;

#define VIGIL_SESSION_VERSION 1

typedef struct {
  char *path;       /* the scan file or folder */
  char *series_uid; /* NULL for single images */
  int slice;        /* in display order, from 0 */
} VigilSliceRef;

typedef struct {
  GPtrArray *open_paths; /* char*: files and folders as the user opened them */
  GPtrArray *references; /* VigilSliceRef*: normal references for few-shot */
  char *domain;          /* a vigil_domain id, or NULL */
  char *custom_class;    /* a user-typed class name, or NULL */
  char *mode;            /* "zero-shot" or "few-shot" */
  char *note;            /* the user's findings for the report, or NULL */
  GPtrArray *marked;     /* VigilSliceRef* (path NULL): slices marked for the report */
  char *calibration;     /* the calibration in use, as its JSON (vigil-calibration.h), or NULL */
  /* Rulers and regions: VigilMeasurement* (vigil-measurement.h), owned. */
  GPtrArray *measurements;
  /* The view. */
  char *series_uid;
  int slice;
  double zoom, pan_x, pan_y;
  double window_center, window_width;
  gboolean has_window;
  /* How each series is shown (turned, flipped, inverted), by series UID; the
   * identity is left out. */
  GHashTable *transforms; /* char* -> VigilViewTransform* */
  gboolean hide_corner_text;
} VigilSession;

VigilSession *vigil_session_new(void);
void vigil_session_free(VigilSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilSession, vigil_session_free)

void vigil_session_add_reference(VigilSession *session, const char *path, const char *series_uid,
                                 int slice);
void vigil_session_add_marked(VigilSession *session, const char *series_uid, int slice);
/* Removes the reference equal to (path, series, slice); FALSE if there was none. */
gboolean vigil_session_remove_reference(VigilSession *session, const char *path,
                                        const char *series_uid, int slice);

/* A copy of `t` for `series_uid` (the identity removes it); NULL: the identity. */
void vigil_session_set_transform(VigilSession *session, const char *series_uid,
                                 const VigilViewTransform *t);
const VigilViewTransform *vigil_session_get_transform(const VigilSession *session,
                                                      const char *series_uid);

VigilSession *vigil_session_from_json(const char *json, gssize length, GError **error);

/* Atomic: a crash mid-write leaves the previous file. */
gboolean vigil_session_save(const VigilSession *session, const char *path, GError **error);
VigilSession *vigil_session_load(const char *path, GError **error);

/* Where the autosave lives: $XDG_STATE_HOME/vigil/autosave.vigil. */
char *vigil_session_autosave_path(void);

G_END_DECLS
