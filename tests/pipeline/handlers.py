"""Stage handlers used by tests to exercise the executor's failure paths."""


def explode(request):
    raise ZeroDivisionError(f"the {request.stage_input.stage} handler broke")
