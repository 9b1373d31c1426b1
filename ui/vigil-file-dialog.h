/* Choosing files: GtkFileDialog on GTK 4.10 and newer (the flatpak's GNOME
 * runtime, where GtkFileChooserNative is deprecated), GtkFileChooserNative on
 * older GTK (Debian 12's 4.8). Chosen when Vigil is built. Both go through
 * the file chooser portal in a sandbox. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
  VIGIL_FILE_OPEN,          /* one or more files (multiple) */
  VIGIL_FILE_SAVE,          /* a new file name (initial_name) */
  VIGIL_FILE_SELECT_FOLDER, /* one folder */
} VigilFileMode;

typedef struct {
  VigilFileMode mode;
  gboolean multiple;        /* VIGIL_FILE_OPEN only */
  const char *title;        /* the dialog's title */
  const char *accept;       /* its accept button, with a mnemonic ("_Open") */
  const char *initial_name; /* VIGIL_FILE_SAVE: the name it proposes */
  GtkFileFilter *filter;    /* shown files; NULL = all */
} VigilFileDialog;

/* Called with the chosen files (GFile items, at least one) when the user
 * accepts; not called when the dialog is cancelled. */
typedef void (*VigilFilesChosen)(GListModel *files, gpointer user_data);

void vigil_file_dialog_show(GtkWindow *parent, const VigilFileDialog *dialog, VigilFilesChosen done,
                            gpointer user_data);

/* The first chosen file's local path, or NULL. g_free it. */
char *vigil_file_dialog_first_path(GListModel *files);

G_END_DECLS
