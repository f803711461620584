"""Full-batch GD against online, small-batch and large-batch SGD."""
