/* VigilReferenceStrip: see vigil-reference-strip.h. The strip is rebuilt
 * from the model whenever its references change, in the order they were
 * added; thumbnails of references the model no longer has are dropped. */
#include "vigil-reference-strip.h"

#define THUMB_PX 64

struct _VigilReferenceStrip {
  GtkBox parent_instance;
  GtkDropTarget *drop_target;
  GtkLabel *count_label;
  GtkBox *thumbs;
  VigilAnalysisSession *session;
  GHashTable *thumbnails; /* id (guint64 *) -> GdkPaintable* */
  guint count;
};

G_DEFINE_FINAL_TYPE(VigilReferenceStrip, vigil_reference_strip, GTK_TYPE_BOX)

enum { SIGNAL_REMOVE_REFERENCE, SIGNAL_DROPPED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void on_remove_clicked(GtkButton *button, VigilReferenceStrip *self) {
  const guint64 *id = g_object_get_data(G_OBJECT(button), "reference-id");
  g_signal_emit(self, signals[SIGNAL_REMOVE_REFERENCE], 0, *id);
}

static gboolean on_drop(GtkDropTarget *target, const GValue *value, double x, double y,
                        VigilReferenceStrip *self) {
  (void)target, (void)x, (void)y;
  gboolean handled = FALSE;
  g_signal_emit(self, signals[SIGNAL_DROPPED], 0, value, &handled);
  return handled;
}

static GtkWidget *thumbnail(VigilReferenceStrip *self, const VigilAnalysisReference *r) {
  GtkWidget *overlay = gtk_overlay_new();
  GdkPaintable *thumb = g_hash_table_lookup(self->thumbnails, &r->id);
  GtkWidget *picture = thumb ? gtk_picture_new_for_paintable(thumb)
                             : gtk_image_new_from_icon_name("image-x-generic-symbolic");
  gtk_widget_set_size_request(picture, THUMB_PX, THUMB_PX);
  gtk_widget_set_tooltip_text(picture, r->label);
  gtk_accessible_update_property(GTK_ACCESSIBLE(picture), GTK_ACCESSIBLE_PROPERTY_LABEL, r->label,
                                 -1);
  gtk_overlay_set_child(GTK_OVERLAY(overlay), picture);
  GtkWidget *remove = gtk_button_new_from_icon_name("window-close-symbolic");
  g_autofree char *remove_label = g_strdup_printf("Remove reference %s", r->label);
  gtk_widget_set_tooltip_text(remove, remove_label);
  gtk_accessible_update_property(GTK_ACCESSIBLE(remove), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                 remove_label, -1);
  gtk_widget_add_css_class(remove, "circular");
  gtk_widget_add_css_class(remove, "osd");
  gtk_widget_set_halign(remove, GTK_ALIGN_END);
  gtk_widget_set_valign(remove, GTK_ALIGN_START);
  g_object_set_data_full(G_OBJECT(remove), "reference-id", g_memdup2(&r->id, sizeof r->id), g_free);
  g_signal_connect(remove, "clicked", G_CALLBACK(on_remove_clicked), self);
  gtk_overlay_add_overlay(GTK_OVERLAY(overlay), remove);
  return overlay;
}

static void update_label(VigilReferenceStrip *self) {
  if (self->count == 0) {
    gtk_label_set_label(self->count_label,
                        "none yet: few-shot analysis compares the slice with normal slices you "
                        "add here or drop from the file manager or the sidebar");
    return;
  }
  g_autofree char *text =
      g_strdup_printf(g_dngettext(NULL, "%u reference", "%u references", self->count), self->count);
  gtk_label_set_label(self->count_label, text);
}

static void rebuild(VigilReferenceStrip *self) {
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->thumbs))))
    gtk_box_remove(self->thumbs, child);
  g_autoptr(GHashTable) kept = g_hash_table_new(g_int64_hash, g_int64_equal);
  self->count = self->session ? vigil_analysis_session_n_references(self->session) : 0;
  for (guint i = 0; i < self->count; i++) {
    const VigilAnalysisReference *r = vigil_analysis_session_get_reference(self->session, i);
    gtk_box_append(self->thumbs, thumbnail(self, r));
    g_hash_table_add(kept, (gpointer)&r->id);
  }
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, self->thumbnails);
  while (g_hash_table_iter_next(&it, &key, NULL))
    if (!g_hash_table_contains(kept, key))
      g_hash_table_iter_remove(&it);
  update_label(self);
}

void vigil_reference_strip_set_session(VigilReferenceStrip *self, VigilAnalysisSession *session) {
  g_return_if_fail(VIGIL_IS_REFERENCE_STRIP(self));
  if (self->session)
    g_signal_handlers_disconnect_by_data(self->session, self);
  g_set_object(&self->session, session);
  if (session)
    g_signal_connect_swapped(session, "references-changed", G_CALLBACK(rebuild), self);
  rebuild(self);
}

void vigil_reference_strip_set_thumbnail(VigilReferenceStrip *self, guint64 id,
                                         GdkPaintable *thumb) {
  if (thumb)
    g_hash_table_replace(self->thumbnails, g_memdup2(&id, sizeof id), g_object_ref(thumb));
  else
    g_hash_table_remove(self->thumbnails, &id);
}

void vigil_reference_strip_set_drop_types(VigilReferenceStrip *self, const GType *types, gsize n) {
  gtk_drop_target_set_gtypes(self->drop_target, (GType *)types, n);
}

guint vigil_reference_strip_get_count(VigilReferenceStrip *self) {
  return self->count;
}

GtkWidget *vigil_reference_strip_new(void) {
  return g_object_new(VIGIL_TYPE_REFERENCE_STRIP, NULL);
}

static void vigil_reference_strip_dispose(GObject *object) {
  VigilReferenceStrip *self = VIGIL_REFERENCE_STRIP(object);
  vigil_reference_strip_set_session(self, NULL);
  g_clear_pointer(&self->thumbnails, g_hash_table_unref);
  gtk_widget_dispose_template(GTK_WIDGET(self), VIGIL_TYPE_REFERENCE_STRIP);
  G_OBJECT_CLASS(vigil_reference_strip_parent_class)->dispose(object);
}

static void vigil_reference_strip_class_init(VigilReferenceStripClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = vigil_reference_strip_dispose;
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/vigil/Vigil/vigil-reference-strip.ui");
  gtk_widget_class_bind_template_child(widget_class, VigilReferenceStrip, drop_target);
  gtk_widget_class_bind_template_child(widget_class, VigilReferenceStrip, count_label);
  gtk_widget_class_bind_template_child(widget_class, VigilReferenceStrip, thumbs);
  gtk_widget_class_bind_template_callback(widget_class, on_drop);
  signals[SIGNAL_REMOVE_REFERENCE] =
      g_signal_new("remove-reference", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
  signals[SIGNAL_DROPPED] = g_signal_new(
      "dropped", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, g_signal_accumulator_true_handled,
      NULL, NULL, G_TYPE_BOOLEAN, 1, G_TYPE_VALUE | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void vigil_reference_strip_init(VigilReferenceStrip *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  self->thumbnails = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_object_unref);
  update_label(self);
}
