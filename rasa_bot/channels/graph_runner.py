"""Run Rasa's prediction graph node after node, without building a dask graph for every call.

Rasa 3.6 answers each message with two runs of its model graph (NLU, then the
policies, once per predicted action). ``DaskGraphRunner.run`` works the
graph out again on every call: it computes the minimal schema for the targets,
builds a dask task graph, lets dask order it and schedules the tasks through
its local thread-free scheduler. On the demo bot at 80 messages/s that
bookkeeping was a sixth of the Rasa server's CPU time (py-spy: 56 % inside
``DaskGraphRunner.run``, 40 % inside the graph nodes themselves).

:class:`SequentialGraphRunner` does the same work with the same nodes: for each
set of targets it works out once which nodes run and in which order (a
topological order of the minimal schema, as dask runs it: every node of it), and
then calls them one after another, passing each node the outputs of the nodes it
needs exactly as dask does (``(node name, output)`` pairs; an input of the run
takes the place of a node of the same name; a need that nothing provides is
passed as its name). Outputs are the same; a test runs the demo model's
messages and conversations through both runners and compares them.

The channel installs it on the loaded agent at server start
(``sequential_graph_runner``, on by default). A model loaded later through
Rasa's HTTP API gets Rasa's own runner again, until the next restart.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphNode, GraphNodeHook, GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.runner.interface import GraphRunner
from rasa.engine.storage.storage import ModelStorage

Plan = tuple[tuple[str, GraphNode, tuple[str, ...]], ...]


class SequentialGraphRunner(GraphRunner):
    """A ``GraphRunner`` that calls the nodes in a precomputed order."""

    def __init__(self, graph_schema: GraphSchema, nodes: dict[str, GraphNode]) -> None:
        self._graph_schema = graph_schema
        self._instantiated_nodes = nodes
        self._plans: dict[tuple[str, ...], tuple[Plan, frozenset[str]]] = {}

    @classmethod
    def create(
        cls,
        graph_schema: GraphSchema,
        model_storage: ModelStorage,
        execution_context: ExecutionContext,
        hooks: list[GraphNodeHook] | None = None,
    ) -> SequentialGraphRunner:
        nodes = DaskGraphRunner._instantiate_nodes(graph_schema, model_storage, execution_context, hooks)
        return cls(graph_schema, nodes)

    @classmethod
    def replacing(cls, runner: DaskGraphRunner) -> SequentialGraphRunner:
        """The same graph with the same (already loaded) nodes as ``runner``."""
        return cls(runner._graph_schema, runner._instantiated_nodes)

    def _plan(self, targets: tuple[str, ...]) -> tuple[Plan, frozenset[str]]:
        """Every node of the minimal schema for ``targets``, each after the nodes it needs."""
        schema = self._graph_schema.minimal_graph_schema(list(targets))
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(name: str) -> None:
            if state.get(name) == "done" or name not in schema.nodes:
                return
            if state.get(name) == "visiting":
                raise GraphRunError(f"The graph has a cycle through node '{name}'.")
            state[name] = "visiting"
            for need in schema.nodes[name].needs.values():
                visit(need)
            state[name] = "done"
            order.append(name)

        for name in schema.nodes:
            visit(name)
        plan = tuple((name, self._instantiated_nodes[name], tuple(schema.nodes[name].needs.values())) for name in order)
        return plan, frozenset(schema.nodes)

    def run(self, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        planned = self._plans.get(run_targets)
        if planned is None:
            planned = self._plans[run_targets] = self._plan(run_targets)
        plan, node_names = planned
        values: dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in node_names:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none of the input names "
                    f"passed to the `run` method are the same as node names in the graph schema."
                )
            values[name] = (name, value)  # what dask hands a node for an input
        try:
            for name, node, needs in plan:
                if name not in values:  # an input of the same name replaces the node, as in dask
                    values[name] = node(*[values.get(need, need) for need in needs])
        except RuntimeError as exc:
            raise GraphRunError("Error running runner.") from exc
        return dict(values[target] for target in run_targets)
