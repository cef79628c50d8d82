"""Stand-in for opentelemetry-semantic-conventions (absent from the local index).

Every submodule imports; every name in it is a _Name: a string (the attribute key)
that also answers attribute access and calls, so telemetry set-up code that only
uses these as keys or builds no-op instruments keeps working.
"""
import importlib.abc
import importlib.machinery
import sys
import types


class _Name(str):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Name(name.lower())

    def __call__(self, *args, **kwargs):
        return _Name(str(self))


class _Module(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Name(name.lower().replace("_", "."))


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(__name__ + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _Module(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Finder())
sys.modules[__name__].__class__ = _Module
