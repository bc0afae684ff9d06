"""The matcher's embedding: the network, its episodic (prototypical) training, the model card, loading
a model (:class:`~siamese.embedding.matcher.Matcher`) and the models users trained."""
