using System.Security.Cryptography;
using System.Text;
using Bunit;
using Flare.Data;
using Flare.Data.History;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Embeddings;
using Flare.Routing.Estimation.Index;
using Flare.Routing.Profiles;
using Flare.Tests.Support;
using Flare.Web.Components.Explorer;
using Flare.Web.Components.Pages;
using Flare.Web.Explorer;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flare.Tests.Web.Components;

/// <summary>The explorer page and its workload sample over a real registry and history database.</summary>
public sealed class ExplorerPageTests : ComponentTestBase
{
    private readonly StaticProfileSource _profiles = new();
    private StaticHistorySource? _history;

    protected override void AddServices(IServiceCollection services)
    {
        services.AddSingleton<IProfileSource>(_profiles);
        services.AddSingleton(Db.Services.GetRequiredService<IDbContextFactory<FlareDbContext>>());
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new ExplorerOptions { SampleSize = 40 }));
        services.AddSingleton<ILogger<ExplorerWorkloadService>>(NullLogger<ExplorerWorkloadService>.Instance);
        services.AddSingleton<IHistoryEstimatorSource>(_ => _history!);
        services.AddSingleton(sp => new ExplorerWorkloadService(
            sp.GetRequiredService<IDbContextFactory<FlareDbContext>>(), _profiles, Db.Changes,
            _history is null ? new ServiceCollection().BuildServiceProvider() : sp,
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<ExplorerOptions>>(), TimeProvider.System,
            NullLogger<ExplorerWorkloadService>.Instance));
    }

    // The live plan's panel reads the plan store and the request log; its own tests are in the browser and API suites.
    protected override void Configure(BunitContext ctx) => ctx.ComponentFactories.AddStub<LivePlanPanel>();

    /// <summary>Two models on one A100 each, a history of 60 prompts scoring both, and (unless told) a profile for each.</summary>
    private async Task FleetWithHistoryAsync(bool profiles = true)
    {
        var (gpu, small, _) = await Samples.FleetAsync(Db.Store);
        var big = (await Db.Store.CreateModelAsync(Samples.Llama70B with { InputPricePerMTokUsd = 0.9, OutputPricePerMTokUsd = 0.9 })).Value!;
        await Db.Store.CreateDeploymentAsync(Samples.SelfHosted(big.Id, gpu.Id, "llama-70b@a100x2", gpus: 2));
        var deployments = await Db.Store.ListDeploymentsAsync();

        var entries = Enumerable.Range(0, 60).Select(j =>
        {
            var hard = j / 59.0;
            return new HistoryEntry($"question {j} about topic {j % 7}: explain the {(hard > 0.5 ? "proof" : "word")} number {j}",
                [new ModelOutcome(small.Name, 0.9 - 0.7 * hard, 100 + j), new ModelOutcome(big.Name, 0.9 - 0.1 * hard, 150 + j)]);
        }).ToList();
        await StoreHistoryAsync(entries, [small.Name, big.Name]);
        _history = new StaticHistorySource(HistoryEstimator.Build(entries, new HashedNgramEmbedder(), O200kTokenCounter.Shared, new ExactIndex(256)));

        if (profiles)
        {
            _profiles.Publish(deployments.ToDictionary(d => d.Id, d => new DeploymentProfile(d.Id, 1, new ProfileFit(
                d.ModelId == big.Id ? new LatencyModel(80, 0.1, 0.01, 4, 30, 0.5, 0.0001) : new LatencyModel(30, 0.04, 0.005, 1, 10, 0.2, 0.00005),
                Good, Good, Good, 60, 0, 16), DateTime.UtcNow)));
        }
    }

    private static readonly CurveFitQuality Good = new(60, 0.99, 0.03, 0.04, FitVerdict.Good, null);

    private async Task StoreHistoryAsync(IReadOnlyList<HistoryEntry> entries, IReadOnlyList<string> models)
    {
        await using var db = await Db.CreateContextAsync();
        var registry = await db.Models.ToDictionaryAsync(m => m.Name, m => m.Id);
        var dataset = new HistoryDatasetEntity { Name = "eval", Format = "jsonl", Status = HistoryImportStatus.Completed, StartedUtc = DateTime.UtcNow };
        dataset.ModelMap.AddRange(models.Select(m => new HistoryModelMapEntity { DatasetModel = m, RegistryModelId = registry[m] }));
        db.HistoryDatasets.Add(dataset);
        await db.SaveChangesAsync();
        db.HistoryPrompts.AddRange(entries.Select(e => new HistoryPromptEntity
        {
            DatasetId = dataset.Id,
            Source = HistorySource.Import,
            Prompt = e.Prompt,
            PromptSha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(e.Prompt))),
            InputTokens = O200kTokenCounter.Shared.Count(e.Prompt),
            CreatedUtc = DateTime.UtcNow,
            Outcomes = e.Outcomes.Select(o => new HistoryOutcomeEntity { DatasetModel = o.Model, Score = o.Score!.Value, OutputTokens = o.OutputTokens }).ToList(),
        }));
        await db.SaveChangesAsync();
    }

    [Fact]
    public void NoHistorySource_SaysNoRoutingHistoryYet_WithWhereToImportOne()
    {
        var cut = Ctx.Render<ParetoExplorer>();

        var empty = cut.WaitForElement("[data-testid=explorer-empty]");
        Assert.Equal("NoHistory", empty.GetAttribute("data-state"));
        Assert.Contains("No routing history yet", empty.TextContent);
        Assert.Contains("Import an evaluation set", empty.TextContent);
        Assert.NotNull(empty.QuerySelector("a[href='/history']"));
    }

    [Fact]
    public async Task HistoryButNoProfile_SaysNoProfileYet_WithWhereToProfile()
    {
        await FleetWithHistoryAsync(profiles: false);

        var cut = Ctx.Render<ParetoExplorer>();

        cut.WaitForAssertion(() => Assert.Equal("NoProfile", cut.Find("[data-testid=explorer-empty]").GetAttribute("data-state")));
        Assert.Contains("No profile yet", cut.Markup);
        Assert.NotNull(cut.Find("[data-testid=explorer-empty] a[href='/deployments']"));
    }

    [Fact]
    public async Task Ready_ShowsTheFrontThePanelTheAllocationAndWhatWasAssumed()
    {
        await FleetWithHistoryAsync();

        var cut = Ctx.Render<ParetoExplorer>();

        cut.WaitForElement("[data-testid=predicted-quality]", TimeSpan.FromSeconds(30));
        Assert.Contains("40 prompts × 2 deployments", cut.Find("[data-testid=explorer-sample]").TextContent);
        Assert.True(int.Parse(cut.Find("[data-testid=explorer-chart]").GetAttribute("data-points")!) >= 3);
        var assumptions = cut.Find("[data-testid=assumptions]").TextContent;
        Assert.Contains("40 of the 60 prompts of the routing history", assumptions);
        Assert.Contains("Little's law", assumptions);
        Assert.Contains("The live operating point is not marked", cut.Find("[data-testid=live-point-note]").TextContent);
        Assert.True(cut.Find("[data-testid=apply-point]").HasAttribute("disabled"));
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=allocation-table] tbody tr")), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Workload_LeavesOutUnprofiledDeployments_AndSaysSo()
    {
        await FleetWithHistoryAsync();
        var deployments = await Db.Store.ListDeploymentsAsync();
        var kept = deployments[0];
        _profiles.Publish(new Dictionary<int, DeploymentProfile> { [kept.Id] = _profiles.Current.ByDeployment[kept.Id] });
        var service = Ctx.Services.GetRequiredService<ExplorerWorkloadService>();

        var workload = await service.BuildAsync();

        Assert.Equal(ExplorerSampleState.Ready, workload.State);
        Assert.Equal([kept.Name], workload.Sample!.Deployments.Select(d => d.Name));
        Assert.Contains(workload.Assumptions!, a => a.StartsWith("Left out, no profile yet") && a.Contains(deployments[1].Name));
        Assert.Equal(40, workload.Sample.FullyLabelledQueries);
    }

    private sealed class StaticHistorySource(HistoryEstimator estimator) : IHistoryEstimatorSource
    {
        public HistoryEstimator Current => estimator;

        public bool IsReady => true;
    }
}
