using Bunit;
using Flare.Routing.Optimization;
using Flare.Routing.Profiles;
using Flare.Tests.Routing.Optimization;
using Flare.Tests.Support;
using Flare.Web.Components.Explorer;
using Flare.Web.Explorer;

namespace Flare.Tests.Web.Components;

/// <summary>The explorer's slider panel on the two-prompt, two-deployment sample of <see cref="ExplorerSolverTests"/>.</summary>
public sealed class WhatIfPanelTests : ComponentTestBase
{
    private static readonly ExplorerRanges Ranges = new(10, 0.1, 500, 3000, 10, 2.5, 0.01);

    private IRenderedComponent<WhatIfPanel> Render(ExplorerSettings settings, Action<ExplorerSettings>? changed = null)
    {
        var result = new ExplorerSolver(ExplorerSolverTests.TwoByTwo()).Solve(settings);
        return Ctx.Render<WhatIfPanel>(p => p
            .Add(c => c.Settings, settings)
            .Add(c => c.Ranges, Ranges)
            .Add(c => c.Result, result)
            .Add(c => c.ApplyHint, "Applying is not connected yet.")
            .Add(c => c.SettingsChanged, s => changed?.Invoke(s)));
    }

    [Fact]
    public void Infeasible_SaysWhichConstraintBindsAndByHowMuch_AndOffersNoPoint()
    {
        var cut = Render(new ExplorerSettings(0, LatencyMetric.E2e, LatencyStatistic.Mean, SloMs: 1700, BudgetPer1kUsd: 0.8, MinQuality: 0.7));

        var message = cut.Find("[data-testid=infeasible]").TextContent;
        Assert.Contains("No operating point meets every constraint at 0 requests/s.", message);
        Assert.Contains("The budget binds: the cheapest point meeting the SLO and the quality floor costs $1.00 per 1k requests, $0.20 over the $0.80 budget.", message);
        Assert.Contains("The quality floor binds: the best quality meeting the SLO and within the budget is 0.550, 0.150 under the 0.700 floor.", message);
        Assert.Empty(cut.FindAll("[data-testid=predicted-quality]"));
        Assert.Empty(cut.FindAll("[data-testid=apply-point]"));
    }

    [Fact]
    public void Infeasible_SloAlone_SaysTheFastestPointsLatencyAndTheGap()
    {
        var cut = Render(new ExplorerSettings(0, LatencyMetric.E2e, LatencyStatistic.P95, SloMs: 1000));

        Assert.Contains("The SLO binds: the fastest point of all has a p95 e2e of 1,100 ms, 100 ms over the 1,000 ms SLO.",
            cut.Find("[data-testid=infeasible]").TextContent);
    }

    [Fact]
    public void Feasible_ShowsThePredictedMetricsAndTheTrafficSplit_ApplyDisabledWithTheReason()
    {
        var cut = Render(new ExplorerSettings(0, LatencyMetric.E2e, LatencyStatistic.Mean, SloMs: 1700));

        Assert.Empty(cut.FindAll("[data-testid=infeasible]"));
        Assert.Equal("0.750", cut.Find("[data-testid=predicted-quality]").TextContent);
        Assert.Equal("1,650 ms", cut.Find("[data-testid=predicted-mean]").TextContent);
        Assert.Equal("2,200 ms", cut.Find("[data-testid=predicted-p95]").TextContent);
        Assert.Equal("$1.00", cut.Find("[data-testid=predicted-cost]").TextContent);
        var split = cut.FindAll("[data-testid=split-row]").Select(r => r.TextContent).ToList();
        Assert.Equal(2, split.Count);
        Assert.All(split, row => Assert.Contains("50%", row));
        Assert.True(cut.Find("[data-testid=apply-point]").HasAttribute("disabled"));
        Assert.Contains("Applying is not connected yet.", cut.Markup);
    }

    [Fact]
    public void MovingTheSloSlider_RaisesTheNewPosition()
    {
        ExplorerSettings? raised = null;
        var cut = Render(new ExplorerSettings(0, SloMs: 1700), s => raised = s);

        // MudSlider puts the test id on its range input.
        cut.Find("input[type=range][data-testid=slider-slo]").Input("1200");

        Assert.Equal(1200, raised!.SloMs);
        Assert.Equal(0, raised.ArrivalRatePerSecond);
    }
}
