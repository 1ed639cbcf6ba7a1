"""Running the staged pipeline: asset resolution, the stage executor, handlers and the runner."""
