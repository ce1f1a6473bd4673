using Google.OrTools.Sat;

namespace Flare.Routing.Optimization.OrTools;

/// <summary>
/// Lists every placement of models on the GPU pool with CP-SAT: one Boolean per (model, option), at most
/// one option per model (or none: the model is not deployed), and per GPU type the GPUs used ≤ the pool.
/// </summary>
internal static class SetupEnumerator
{
    /// <summary>Each setup as, per model, the index of its option or −1.</summary>
    public static List<int[]> Enumerate(SetupSearchProblem problem, List<List<(int Type, int Gpus)>> options)
    {
        var model = new CpModel();
        var x = options.Select((list, m) => list.Select((_, o) => model.NewBoolVar($"x_{m}_{o}")).ToArray()).ToArray();
        foreach (var vars in x)
        {
            model.AddAtMostOne(vars);
        }

        for (var t = 0; t < problem.Pool.Count; t++)
        {
            var terms = new List<LinearExpr>();
            for (var m = 0; m < options.Count; m++)
            {
                for (var o = 0; o < options[m].Count; o++)
                {
                    if (options[m][o].Type == t)
                    {
                        terms.Add(LinearExpr.Term(x[m][o], options[m][o].Gpus));
                    }
                }
            }

            if (terms.Count > 0)
            {
                model.Add(LinearExpr.Sum(terms) <= problem.Pool[t].Count);
            }
        }

        var solver = new CpSolver { StringParameters = "enumerate_all_solutions:true num_workers:1" };
        var collector = new Collector(x);
        solver.Solve(model, collector);
        return collector.Setups;
    }

    private sealed class Collector(BoolVar[][] x) : CpSolverSolutionCallback
    {
        public List<int[]> Setups { get; } = [];

        public override void OnSolutionCallback()
        {
            var setup = new int[x.Length];
            for (var m = 0; m < x.Length; m++)
            {
                setup[m] = -1;
                for (var o = 0; o < x[m].Length; o++)
                {
                    if (BooleanValue(x[m][o]))
                    {
                        setup[m] = o;
                    }
                }
            }

            Setups.Add(setup);
        }
    }
}
