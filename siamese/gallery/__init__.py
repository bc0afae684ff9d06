"""The reference sets: the :class:`~siamese.gallery.gallery.Gallery` (sets, symbols, owners), its
errors and schema, its databases (:mod:`siamese.gallery.stores`), seeding the default sets,
exporting/importing a set and copying a whole gallery between databases."""
