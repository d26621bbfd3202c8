//! Replaying real editing traces through the model.
