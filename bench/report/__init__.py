"""The side-by-side results: kept between runs (`results`), the machine (`machine`), targets and markdown."""
