#include "vigil-tag-browser.h"

#include "vigil-dicom-tag.h"

struct _VigilTagBrowser {
  AdwWindow parent_instance;
  AdwWindowTitle *title;
  GtkSearchEntry *search;
  GtkStack *stack;
  GtkColumnView *columns;
  AdwStatusPage *message;
  GtkCustomFilter *filter;
  GtkFilterListModel *filtered; /* GtkTreeListRow of VigilDicomTag, all expanded */
  char *needle;
};

G_DEFINE_FINAL_TYPE(VigilTagBrowser, vigil_tag_browser, ADW_TYPE_WINDOW)

enum { COL_TAG, COL_VR, COL_KEYWORD, COL_VALUE, COL_PRIVATE, N_COLS };
static const char *const titles[N_COLS] = {"Tag", "VR", "Keyword", "Value", "Private"};

static VigilDicomTag *tag_of_row(gpointer row) {
  return VIGIL_DICOM_TAG(gtk_tree_list_row_get_item(GTK_TREE_LIST_ROW(row)));
}

static GListModel *children_of(gpointer item, gpointer data) {
  (void)data;
  GListModel *children = vigil_dicom_tag_get_children(item);
  return children ? g_object_ref(children) : NULL;
}

static gboolean keep_row(gpointer row, gpointer data) {
  VigilTagBrowser *self = data;
  g_autoptr(VigilDicomTag) tag = tag_of_row(row);
  return vigil_dicom_tag_matches(tag, self->needle);
}

static void setup_cell(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data) {
  (void)f;
  GtkWidget *label = gtk_label_new(NULL);
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
  gtk_label_set_selectable(GTK_LABEL(label), GPOINTER_TO_INT(data) == COL_VALUE);
  if (GPOINTER_TO_INT(data) != COL_TAG) {
    gtk_list_item_set_child(li, label);
    return;
  }
  gtk_widget_add_css_class(label, "monospace");
  GtkWidget *expander = gtk_tree_expander_new();
  gtk_tree_expander_set_child(GTK_TREE_EXPANDER(expander), label);
  gtk_list_item_set_child(li, expander);
}

static void bind_cell(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data) {
  (void)f;
  gpointer row = gtk_list_item_get_item(li);
  g_autoptr(VigilDicomTag) tag = tag_of_row(row);
  GtkWidget *child = gtk_list_item_get_child(li);
  const char *text = NULL;
  switch (GPOINTER_TO_INT(data)) {
  case COL_TAG:
    gtk_tree_expander_set_list_row(GTK_TREE_EXPANDER(child), row);
    child = gtk_tree_expander_get_child(GTK_TREE_EXPANDER(child));
    text = vigil_dicom_tag_get_tag(tag);
    break;
  case COL_VR: text = vigil_dicom_tag_get_vr(tag); break;
  case COL_KEYWORD: text = vigil_dicom_tag_get_keyword(tag); break;
  case COL_VALUE: text = vigil_dicom_tag_get_value(tag); break;
  default: text = vigil_dicom_tag_is_private(tag) ? "private" : ""; break;
  }
  gtk_label_set_text(GTK_LABEL(child), text ? text : "");
  if (vigil_dicom_tag_is_private(tag))
    gtk_widget_add_css_class(child, "accent");
  else
    gtk_widget_remove_css_class(child, "accent");
}

static void add_columns(VigilTagBrowser *self) {
  for (int i = 0; i < N_COLS; i++) {
    GtkListItemFactory *f = gtk_signal_list_item_factory_new();
    g_signal_connect(f, "setup", G_CALLBACK(setup_cell), GINT_TO_POINTER(i));
    g_signal_connect(f, "bind", G_CALLBACK(bind_cell), GINT_TO_POINTER(i));
    GtkColumnViewColumn *c = gtk_column_view_column_new(titles[i], f);
    gtk_column_view_column_set_resizable(c, TRUE);
    gtk_column_view_column_set_expand(c, i == COL_VALUE);
    gtk_column_view_append_column(self->columns, c);
    g_object_unref(c);
  }
}

/* "tags: 'needle' matches N rows; first (0010,0010) PatientName = value". */
static void log_matches(VigilTagBrowser *self) {
  GListModel *m = G_LIST_MODEL(self->filtered);
  guint n = g_list_model_get_n_items(m);
  g_autoptr(GObject) row = n ? g_list_model_get_item(m, 0) : NULL;
  g_autoptr(VigilDicomTag) tag = row ? tag_of_row(row) : NULL;
  const char *value = tag ? vigil_dicom_tag_get_value(tag) : NULL;
  g_autofree char *first =
      tag ? g_strdup_printf("; first %s %s = %s", vigil_dicom_tag_get_tag(tag),
                            vigil_dicom_tag_get_keyword(tag), value ? value : "")
          : NULL;
  g_message("tags: '%s' matches %u rows%s", self->needle ? self->needle : "", n,
            first ? first : "");
}

static void refilter(VigilTagBrowser *self, const char *text) {
  g_free(self->needle);
  self->needle = g_strdup(text);
  gtk_filter_changed(GTK_FILTER(self->filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void on_search_changed(GtkSearchEntry *entry, VigilTagBrowser *self) {
  refilter(self, gtk_editable_get_text(GTK_EDITABLE(entry)));
}

void vigil_tag_browser_search(VigilTagBrowser *self, const char *text) {
  g_signal_handlers_block_by_func(self->search, on_search_changed, self);
  gtk_editable_set_text(GTK_EDITABLE(self->search), text);
  g_signal_handlers_unblock_by_func(self->search, on_search_changed, self);
  refilter(self, text);
  log_matches(self);
}

static void show_message(VigilTagBrowser *self, const char *message) {
  adw_status_page_set_description(self->message, message);
  gtk_stack_set_visible_child_name(self->stack, "message");
  g_message("tags: %s", message);
}

void vigil_tag_browser_show(VigilTagBrowser *self, const char *path, const char *message) {
  gtk_filter_list_model_set_model(self->filtered, NULL);
  if (!path) {
    adw_window_title_set_subtitle(self->title, "");
    show_message(self, message ? message : "No slice is shown.");
    return;
  }
  g_autofree char *base = g_path_get_basename(path);
  adw_window_title_set_subtitle(self->title, base);
  g_autoptr(GError) error = NULL;
  GListStore *tags = vigil_dicom_tags_read(path, &error);
  if (!tags) {
    g_autofree char *text = g_strdup_printf("%s cannot be read as DICOM: %s", base, error->message);
    show_message(self, text);
    return;
  }
  GtkTreeListModel *tree =
      gtk_tree_list_model_new(G_LIST_MODEL(tags), FALSE, TRUE, children_of, NULL, NULL);
  gtk_filter_list_model_set_model(self->filtered, G_LIST_MODEL(tree));
  g_object_unref(tree);
  gtk_stack_set_visible_child_name(self->stack, "tags");
}

VigilTagBrowser *vigil_tag_browser_new(GtkWindow *parent) {
  return g_object_new(VIGIL_TYPE_TAG_BROWSER, "transient-for", parent, NULL);
}

static void vigil_tag_browser_dispose(GObject *object) {
  VigilTagBrowser *self = VIGIL_TAG_BROWSER(object);
  gtk_widget_dispose_template(GTK_WIDGET(self), VIGIL_TYPE_TAG_BROWSER);
  G_OBJECT_CLASS(vigil_tag_browser_parent_class)->dispose(object);
}

static void vigil_tag_browser_finalize(GObject *object) {
  g_free(VIGIL_TAG_BROWSER(object)->needle);
  G_OBJECT_CLASS(vigil_tag_browser_parent_class)->finalize(object);
}

static void vigil_tag_browser_class_init(VigilTagBrowserClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = vigil_tag_browser_dispose;
  object_class->finalize = vigil_tag_browser_finalize;
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/vigil/Vigil/vigil-tag-browser.ui");
  gtk_widget_class_bind_template_child(widget_class, VigilTagBrowser, title);
  gtk_widget_class_bind_template_child(widget_class, VigilTagBrowser, search);
  gtk_widget_class_bind_template_child(widget_class, VigilTagBrowser, stack);
  gtk_widget_class_bind_template_child(widget_class, VigilTagBrowser, columns);
  gtk_widget_class_bind_template_child(widget_class, VigilTagBrowser, message);
  gtk_widget_class_bind_template_callback(widget_class, on_search_changed);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void vigil_tag_browser_init(VigilTagBrowser *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  self->filter = gtk_custom_filter_new(keep_row, self, NULL);
  self->filtered = gtk_filter_list_model_new(NULL, GTK_FILTER(self->filter)); /* takes the filter */
  GtkSingleSelection *rows = gtk_single_selection_new(G_LIST_MODEL(self->filtered)); /* takes it */
  gtk_column_view_set_model(self->columns, GTK_SELECTION_MODEL(rows));
  g_object_unref(rows);
  add_columns(self);
}
