#include "vigil-file-dialog.h"

typedef struct {
  VigilFilesChosen done;
  gpointer user_data;
} Pending;

char *vigil_file_dialog_first_path(GListModel *files) {
  g_autoptr(GFile) file = g_list_model_get_n_items(files) ? g_list_model_get_item(files, 0) : NULL;
  return file ? g_file_get_path(file) : NULL;
}

static void finish(Pending *p, GListModel *files) {
  if (files && g_list_model_get_n_items(files) > 0)
    p->done(files, p->user_data);
  g_free(p);
}

#if GTK_CHECK_VERSION(4, 10, 0)

static GListModel *single(GFile *file) {
  GListStore *store = g_list_store_new(G_TYPE_FILE);
  if (file)
    g_list_store_append(store, file);
  return G_LIST_MODEL(store);
}

/* One callback for the four kinds of finish: a dismissed dialog is an error
 * here, and says nothing. */
static void on_finished(GObject *source, GAsyncResult *result, gpointer user_data) {
  GtkFileDialog *dialog = GTK_FILE_DIALOG(source);
  const VigilFileMode mode = GPOINTER_TO_INT(g_object_get_data(source, "vigil-mode"));
  const gboolean multiple = GPOINTER_TO_INT(g_object_get_data(source, "vigil-multiple"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) files = NULL;
  if (mode == VIGIL_FILE_OPEN && multiple) {
    files = gtk_file_dialog_open_multiple_finish(dialog, result, &error);
  } else {
    g_autoptr(GFile) file =
        mode == VIGIL_FILE_SAVE   ? gtk_file_dialog_save_finish(dialog, result, &error)
        : mode == VIGIL_FILE_OPEN ? gtk_file_dialog_open_finish(dialog, result, &error)
                                  : gtk_file_dialog_select_folder_finish(dialog, result, &error);
    files = file ? single(file) : NULL;
  }
  if (error && !g_error_matches(error, GTK_DIALOG_ERROR, GTK_DIALOG_ERROR_DISMISSED))
    g_warning("file dialog: %s", error->message);
  finish(user_data, files);
}

void vigil_file_dialog_show(GtkWindow *parent, const VigilFileDialog *d, VigilFilesChosen done,
                            gpointer user_data) {
  GtkFileDialog *dialog = gtk_file_dialog_new();
  gtk_file_dialog_set_title(dialog, d->title);
  gtk_file_dialog_set_accept_label(dialog, d->accept);
  gtk_file_dialog_set_modal(dialog, TRUE);
  if (d->initial_name)
    gtk_file_dialog_set_initial_name(dialog, d->initial_name);
  if (d->filter) {
    g_autoptr(GListStore) filters = g_list_store_new(GTK_TYPE_FILE_FILTER);
    g_list_store_append(filters, d->filter);
    gtk_file_dialog_set_filters(dialog, G_LIST_MODEL(filters));
    gtk_file_dialog_set_default_filter(dialog, d->filter);
  }
  g_object_set_data(G_OBJECT(dialog), "vigil-mode", GINT_TO_POINTER(d->mode));
  g_object_set_data(G_OBJECT(dialog), "vigil-multiple", GINT_TO_POINTER(d->multiple));
  Pending *p = g_new(Pending, 1);
  *p = (Pending){done, user_data};
  if (d->mode == VIGIL_FILE_OPEN && d->multiple)
    gtk_file_dialog_open_multiple(dialog, parent, NULL, on_finished, p);
  else if (d->mode == VIGIL_FILE_OPEN)
    gtk_file_dialog_open(dialog, parent, NULL, on_finished, p);
  else if (d->mode == VIGIL_FILE_SAVE)
    gtk_file_dialog_save(dialog, parent, NULL, on_finished, p);
  else
    gtk_file_dialog_select_folder(dialog, parent, NULL, on_finished, p);
  g_object_unref(dialog); /* the running operation holds it */
}

#else /* GTK 4.8: GtkFileChooserNative */

static void on_response(GtkNativeDialog *dialog, int response, gpointer user_data) {
  g_autoptr(GListModel) files =
      response == GTK_RESPONSE_ACCEPT ? gtk_file_chooser_get_files(GTK_FILE_CHOOSER(dialog)) : NULL;
  finish(user_data, files);
  gtk_native_dialog_destroy(dialog);
  g_object_unref(dialog);
}

void vigil_file_dialog_show(GtkWindow *parent, const VigilFileDialog *d, VigilFilesChosen done,
                            gpointer user_data) {
  static const GtkFileChooserAction actions[] = {
      [VIGIL_FILE_OPEN] = GTK_FILE_CHOOSER_ACTION_OPEN,
      [VIGIL_FILE_SAVE] = GTK_FILE_CHOOSER_ACTION_SAVE,
      [VIGIL_FILE_SELECT_FOLDER] = GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
  };
  GtkFileChooserNative *chooser =
      gtk_file_chooser_native_new(d->title, parent, actions[d->mode], d->accept, "_Cancel");
  GtkFileChooser *fc = GTK_FILE_CHOOSER(chooser);
  gtk_file_chooser_set_select_multiple(fc, d->mode == VIGIL_FILE_OPEN && d->multiple);
  if (d->initial_name)
    gtk_file_chooser_set_current_name(fc, d->initial_name);
  if (d->filter)
    gtk_file_chooser_add_filter(fc, d->filter);
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(chooser), TRUE);
  Pending *p = g_new(Pending, 1);
  *p = (Pending){done, user_data};
  g_signal_connect(chooser, "response", G_CALLBACK(on_response), p);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

#endif
