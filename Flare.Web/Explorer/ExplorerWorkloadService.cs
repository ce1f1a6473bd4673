using System.Diagnostics;
using System.Globalization;
using Flare.Data;
using Flare.Data.Gateway;
using Flare.Data.Registry;
using Flare.Routing.Estimation;
using Flare.Routing.Optimization;
using Flare.Routing.Profiles;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Flare.Web.Explorer;

/// <summary>Where the explorer's workload sample stands.</summary>
public enum ExplorerSampleState
{
    /// <summary>No routing history (no estimator, or one without prompts).</summary>
    NoHistory,

    /// <summary>The estimator is still being built from the database.</summary>
    HistoryLoading,

    /// <summary>No deployment is enabled.</summary>
    NoDeployments,

    /// <summary>No enabled deployment has a fitted profile.</summary>
    NoProfile,

    /// <summary>The history scores none of the deployed models.</summary>
    NoScores,

    /// <summary>The sample is being built; see <see cref="ExplorerWorkload.Progress"/>.</summary>
    Building,

    /// <summary>The sample and its solver are ready.</summary>
    Ready,

    /// <summary>Building failed; the message says why.</summary>
    Failed,
}

/// <summary>The explorer's workload sample and what it assumed; immutable, replaced whole.</summary>
/// <param name="Message">The state in words, with what to do next when there is no sample.</param>
/// <param name="Progress">Share of the prompts estimated while building, 0–1.</param>
/// <param name="Solver">Solves slider positions on <see cref="Sample"/>; its cache lives as long as the sample.</param>
/// <param name="Assumptions">What the sample assumed, in words (left-out deployments, defaults, formulas).</param>
/// <param name="Pool">The GPU pool, for the allocation advice.</param>
/// <param name="HistoryPrompts">Prompts in the routing history.</param>
/// <param name="BuildSeconds">How long the build took.</param>
/// <param name="Refreshing">A newer sample is being built while this one stays in use; <see cref="RefreshMessage"/> and
/// <see cref="Progress"/> say how far it is.</param>
public sealed record ExplorerWorkload(
    ExplorerSampleState State,
    string Message,
    double Progress = 0,
    ExplorerSample? Sample = null,
    ExplorerSolver? Solver = null,
    IReadOnlyList<string>? Assumptions = null,
    IReadOnlyList<PoolGpu>? Pool = null,
    int HistoryPrompts = 0,
    DateTime? BuiltUtc = null,
    double BuildSeconds = 0,
    bool Refreshing = false,
    string? RefreshMessage = null)
{
    /// <summary>Before the first build.</summary>
    public static ExplorerWorkload Initial { get; } = new(ExplorerSampleState.Building, "Preparing the workload sample…");

    /// <summary>True when <see cref="Solver"/> can be used.</summary>
    public bool IsReady => State == ExplorerSampleState.Ready && Solver is not null;
}

/// <summary>
/// Builds the Pareto explorer's workload sample (ROUTING.md §5) in the background and keeps it until the registry, the
/// profiles or the routing history change: up to <see cref="ExplorerOptions.SampleSize"/> prompts of the routing history,
/// and for each enabled, profiled deployment whose model the history scores, q̂ and L̂_out from the live estimator, the
/// latency curves of its active fit and its prices.
/// </summary>
/// <remarks>
/// The history is optional: without an <see cref="IHistoryEstimatorSource"/> (or with an empty one) the explorer says
/// there is no routing history yet. Prompts come from the history table, imports and feedback alike (feedback rows are
/// the traffic Flare served); the request log keeps no prompt text.
/// </remarks>
public sealed partial class ExplorerWorkloadService : IDisposable
{
    private readonly IDbContextFactory<FlareDbContext> _dbFactory;
    private readonly IProfileSource _profiles;
    private readonly RegistryChangeSignal _registry;
    private readonly IHistoryEstimatorSource? _history;
    private readonly ExplorerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ExplorerWorkloadService> _log;
    private readonly Lock _lock = new();
    private ExplorerWorkload _current = ExplorerWorkload.Initial;
    private Fingerprint? _builtFor;
    private CancellationTokenSource? _build;
    private bool _disposed;

    public ExplorerWorkloadService(
        IDbContextFactory<FlareDbContext> dbFactory,
        IProfileSource profiles,
        RegistryChangeSignal registry,
        IServiceProvider services,
        IOptions<ExplorerOptions> options,
        TimeProvider time,
        ILogger<ExplorerWorkloadService> log)
    {
        _dbFactory = dbFactory;
        _profiles = profiles;
        _registry = registry;
        _history = services.GetService<IHistoryEstimatorSource>();
        _options = options.Value;
        _time = time;
        _log = log;
        _profiles.Published += OnProfilesPublished;
        _registry.Changed += OnRegistryChanged;
    }

    /// <summary>The sample as it stands; a field read.</summary>
    public ExplorerWorkload Current => Volatile.Read(ref _current);

    /// <summary>Raised when <see cref="Current"/> changes (progress included), on a background thread.</summary>
    public event Action? Changed;

    /// <summary>True when a history estimator is registered at all.</summary>
    public bool HasHistorySource => _history is not null;

    /// <summary>
    /// Starts a build when the registry, the profiles or the history changed since the last one (or when
    /// <paramref name="force"/>); a build still running for older inputs is cancelled. Returns at once.
    /// </summary>
    public void Refresh(bool force = false)
    {
        var fingerprint = Take();
        lock (_lock)
        {
            if (_disposed || (!force && fingerprint == _builtFor))
            {
                return;
            }

            _builtFor = fingerprint;

            // Cancelled, not disposed: the older build may still be registering on its token; the GC takes the source.
            _build?.Cancel();
            _build = new CancellationTokenSource();
            var ct = _build.Token;
            _ = Task.Run(() => BuildSafelyAsync(fingerprint, ct), CancellationToken.None);
        }
    }

    /// <summary>Builds now and waits for it: for tests and the benchmark.</summary>
    public async Task<ExplorerWorkload> BuildAsync(CancellationToken ct = default)
    {
        var fingerprint = Take();
        lock (_lock)
        {
            _builtFor = fingerprint;
        }

        await BuildSafelyAsync(fingerprint, ct);
        return Current;
    }

    // What a sample depends on. The estimator's identity changes when it is rebuilt; its count when rows are added.
    private sealed record Fingerprint(long Registry, long Profiles, HistoryEstimator? Estimator, int Prompts, bool Ready);

    private Fingerprint Take()
    {
        var estimator = _history?.Current;
        return new Fingerprint(_registry.Version, _profiles.Current.Revision, estimator, estimator?.Count ?? 0, _history?.IsReady ?? false);
    }

    private void OnProfilesPublished(ProfileSnapshot snapshot) => Refresh();

    private void OnRegistryChanged() => Refresh();

    private async Task BuildSafelyAsync(Fingerprint fingerprint, CancellationToken ct)
    {
        try
        {
            var watch = Stopwatch.StartNew();
            var workload = await BuildCoreAsync(fingerprint, ct);
            if (workload.State == ExplorerSampleState.Ready)
            {
                workload = workload with { BuildSeconds = watch.Elapsed.TotalSeconds };
                LogBuilt(workload.Sample!.Queries, workload.Sample.Deployments.Count, watch.Elapsed.TotalSeconds);
            }

            Publish(workload, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // A newer build took over.
        }
        catch (Exception ex)
        {
            LogBuildFailed(ex);
            Publish(new ExplorerWorkload(ExplorerSampleState.Failed, $"The workload sample could not be built: {ex.Message}"), ct);
        }
    }

    private void Publish(ExplorerWorkload workload, CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
        {
            return;
        }

        Volatile.Write(ref _current, workload);
        Changed?.Invoke();
    }

    /// <summary>Building progress: the page shows it in place of the sample, or beside the previous sample while that one
    /// stays in use (a rebuild after a change must not blank the explorer).</summary>
    private void Progress(string message, double progress, int historyPrompts, CancellationToken ct)
    {
        var current = Current;
        Publish(current.IsReady
            ? current with { Refreshing = true, RefreshMessage = message, Progress = progress }
            : new ExplorerWorkload(ExplorerSampleState.Building, message, progress, HistoryPrompts: historyPrompts), ct);
    }

    private async Task<ExplorerWorkload> BuildCoreAsync(Fingerprint fingerprint, CancellationToken ct)
    {
        if (_history is null)
        {
            return new ExplorerWorkload(ExplorerSampleState.NoHistory, NoHistoryMessage);
        }

        if (!fingerprint.Ready)
        {
            return new ExplorerWorkload(ExplorerSampleState.HistoryLoading, "The routing history is being loaded into the estimator…");
        }

        var estimator = fingerprint.Estimator!;
        if (estimator.Count == 0 || estimator.Models.Count == 0)
        {
            return new ExplorerWorkload(ExplorerSampleState.NoHistory, NoHistoryMessage);
        }

        await using var db = await _dbFactory.CreateDbContextAsync(ct);
        var snapshot = await RoutingSnapshotLoader.LoadAsync(db, fingerprint.Registry, ct);
        if (snapshot.Deployments.Count == 0)
        {
            return new ExplorerWorkload(ExplorerSampleState.NoDeployments,
                "No deployment is enabled: register one on the Deployments page (or enable one) and profile it.");
        }

        var registry = await db.Deployments.AsNoTracking().Where(d => d.Enabled)
            .Select(d => new { d.Id, Gpu = d.GpuType == null ? null : d.GpuType.Name, d.GpuCount, d.Model!.ParameterCountBillions })
            .ToDictionaryAsync(d => d.Id, ct);
        var pool = await db.GpuTypes.AsNoTracking().OrderBy(g => g.Name)
            .Select(g => new PoolGpu(g.Name, g.MemoryGiB, g.PoolCount)).ToListAsync(ct);

        var assumptions = new List<string>();
        var profiles = _profiles.Current;
        var unprofiled = snapshot.Deployments.Where(d => profiles.For(d.Id) is null).Select(d => d.Name).ToList();
        var scored = new HashSet<string>(estimator.Models, StringComparer.Ordinal);
        var unscored = snapshot.Deployments.Where(d => profiles.For(d.Id) is not null && !scored.Contains(d.ModelName)).ToList();
        var included = snapshot.Deployments.Where(d => profiles.For(d.Id) is not null && scored.Contains(d.ModelName)).ToList();
        if (unprofiled.Count == snapshot.Deployments.Count)
        {
            return new ExplorerWorkload(ExplorerSampleState.NoProfile,
                "No profile yet: no enabled deployment has fitted latency curves. Profile one from the Deployments page " +
                "(the speedometer button) or import measurements on its profile page; the explorer needs them to predict latency.");
        }

        if (included.Count == 0)
        {
            return new ExplorerWorkload(ExplorerSampleState.NoScores,
                $"The routing history scores none of the profiled deployments' models ({string.Join(", ", unscored.Select(d => d.ModelName).Distinct())}): " +
                "map the history's models to registry models on the Routing history page, or import a history that scores them.");
        }

        if (unprofiled.Count > 0)
        {
            assumptions.Add($"Left out, no profile yet (latency unknown): {string.Join(", ", unprofiled)}. Profile them from the Deployments page.");
        }

        if (unscored.Count > 0)
        {
            assumptions.Add($"Left out, their models have no scores in the routing history: {string.Join(", ", unscored.Select(d => $"{d.Name} ({d.ModelName})"))}.");
        }

        var flagged = included.Where(d => profiles.For(d.Id)!.IsFlagged).Select(d => d.Name).ToList();
        if (flagged.Count > 0)
        {
            assumptions.Add($"Fits flagged as poor or not validated, used as they are: {string.Join(", ", flagged)}.");
        }

        var total = await db.HistoryPrompts.CountAsync(ct);
        var size = Math.Min(_options.SampleSize, total);
        if (size == 0)
        {
            return new ExplorerWorkload(ExplorerSampleState.NoHistory, NoHistoryMessage);
        }

        // The first N prompts by the SHA-256 of their text: the same sample every time, and uniform over the history.
        var rows = await db.HistoryPrompts.AsNoTracking()
            .OrderBy(p => p.PromptSha256).ThenBy(p => p.Id)
            .Take(size)
            .Select(p => new { p.Id, p.Prompt })
            .ToListAsync(ct);
        var actual = await ActualScoresAsync(db, rows.Select(r => r.Id).ToList(), ct);

        var inputs = included.Select(d =>
        {
            var profile = profiles.For(d.Id)!;
            var gpu = registry.GetValueOrDefault(d.Id);
            return new ExplorerDeploymentInput(d, profile.Fit.Model, profile.Fit.MaxConcurrency, gpu?.Gpu, gpu?.GpuCount ?? 0, gpu?.ParameterCountBillions ?? 0);
        }).ToList();

        var queries = new ExplorerQueryInput[rows.Count];
        var assumedLength = new bool[included.Count];
        var done = 0;
        var lastReport = 0L;
        Progress($"Estimating {rows.Count:N0} prompts…", 0, total, ct);
        await Task.Run(() => Parallel.For(0, rows.Count, new ParallelOptions
        {
            CancellationToken = ct,
            MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount - 1),
        }, j =>
        {
            var estimate = estimator.Estimate(rows[j].Prompt);
            var quality = new double[included.Count];
            var output = new double[included.Count];
            double[]? real = actual.TryGetValue(rows[j].Id, out var scores) ? new double[included.Count] : null;
            for (var i = 0; i < included.Count; i++)
            {
                var model = estimate.For(included[i].ModelName);
                quality[i] = model?.Quality ?? 0;
                if (model?.OutputTokens is { } tokens)
                {
                    output[i] = tokens;
                }
                else
                {
                    output[i] = _options.AssumedOutputTokens;
                    assumedLength[i] = true;
                }

                if (real is not null)
                {
                    real[i] = scores!.TryGetValue(included[i].ModelName, out var s) ? s : double.NaN;
                }
            }

            queries[j] = new ExplorerQueryInput(estimate.InputTokens, quality, output, real);
            var finished = Interlocked.Increment(ref done);
            var now = _time.GetTimestamp();
            var last = Interlocked.Read(ref lastReport);
            if (_time.GetElapsedTime(last, now) > TimeSpan.FromMilliseconds(250) && Interlocked.CompareExchange(ref lastReport, now, last) == last)
            {
                Progress($"Estimating prompts: {finished:N0} of {rows.Count:N0}…", (double)finished / rows.Count, total, ct);
            }
        }), ct);

        var sample = ExplorerSample.Create(inputs, queries);
        assumptions.Insert(0, size < total
            ? $"Workload: {size:N0} of the {total:N0} prompts of the routing history (the first by the SHA-256 of their text: the same uniform sample every time)."
            : $"Workload: all {total:N0} prompts of the routing history.");
        assumptions.Insert(1, "q̂ and L̂_out: the live estimator's (nearest neighbours in the history, shrunk toward each model's mean); " +
                              "a sampled prompt is in the history itself, so its own outcomes are among its neighbours.");
        var lengthDefaults = included.Where((_, i) => assumedLength[i]).Select(d => d.ModelName).Distinct().ToList();
        if (lengthDefaults.Count > 0)
        {
            assumptions.Add($"L̂_out assumed {_options.AssumedOutputTokens} tokens where the history has no output lengths: {string.Join(", ", lengthDefaults)}.");
        }

        assumptions.Add("Latency: each deployment's active fit at the concurrency its share of the arrival rate causes (Little's law: " +
                        "c = λ_i·e2e(c)); a point that needs more than a deployment's maximum concurrency overloads it. Past the concurrency " +
                        "a profile measured, its curves extrapolate (the point says so).");
        assumptions.Add("Cost: per-token prices for models that have them (p_in·L_in + p_out·L̂_out); otherwise GPU $/s × e2e / requests sharing the deployment.");
        if (sample.FullyLabelledQueries < sample.Queries / 2)
        {
            assumptions.Add($"Oracle not shown: only {sample.FullyLabelledQueries:N0} of the {sample.Queries:N0} prompts have real scores on every deployment's model.");
        }

        return new ExplorerWorkload(ExplorerSampleState.Ready,
            string.Create(CultureInfo.InvariantCulture, $"{sample.Queries:N0} prompts × {sample.Deployments.Count} deployments"),
            1, sample, new ExplorerSolver(sample), assumptions, pool, total, _time.GetUtcNow().UtcDateTime);
    }

    /// <summary>The real scores of the sampled prompts per registry model (mapped dataset models only, duplicates averaged).</summary>
    private static async Task<Dictionary<long, Dictionary<string, double>>> ActualScoresAsync(FlareDbContext db, List<long> promptIds, CancellationToken ct)
    {
        var result = new Dictionary<long, Dictionary<string, double>>();
        foreach (var chunk in promptIds.Chunk(900))
        {
            var rows = await (
                from o in db.HistoryOutcomes
                join p in db.HistoryPrompts on o.PromptId equals p.Id
                join m in db.HistoryModelMap on new { p.DatasetId, o.DatasetModel } equals new { m.DatasetId, m.DatasetModel }
                join r in db.Models on m.RegistryModelId equals (int?)r.Id
                where chunk.Contains(o.PromptId)
                select new { o.PromptId, r.Name, o.Score }).ToListAsync(ct);
            foreach (var prompt in rows.GroupBy(r => r.PromptId))
            {
                result[prompt.Key] = prompt.GroupBy(r => r.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Average(r => r.Score), StringComparer.Ordinal);
            }
        }

        return result;
    }

    private const string NoHistoryMessage =
        "No routing history yet: the explorer predicts quality from it. Import an evaluation set (prompts with each model's score) " +
        "on the Routing history page, or send feedback on served requests to POST /v1/feedback.";

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _build?.Cancel();
            _build?.Dispose();
        }

        _profiles.Published -= OnProfilesPublished;
        _registry.Changed -= OnRegistryChanged;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Built the explorer's workload sample: {Queries} prompts × {Deployments} deployments in {Seconds:0.0} s")]
    private partial void LogBuilt(int queries, int deployments, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not build the explorer's workload sample")]
    private partial void LogBuildFailed(Exception ex);
}
