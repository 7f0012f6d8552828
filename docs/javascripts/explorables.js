// The explorables of the Dropout and Batch Normalization pages.
