"""Engine-neutral definitions: the star schema, the transform, the queries, the generator. Imports only the kernel."""
