using Flare.Data.Profiling;
using Flare.Data.Registry;
using Flare.Routing.Profiles;

namespace Flare.Web.Profiling;

/// <summary>
/// Fits a run's samples with <see cref="ProfileFitter"/> and stores the result as the deployment's next, active
/// version, with the throughput and cost per request at the run's median request shape: API prices when the
/// model has them, else GPU $/hour × GPUs / fitted saturation throughput (<see cref="RequestCost"/>).
/// </summary>
public sealed class ProfileFitting(ProfilingStore store)
{
    public async Task<Outcome<ProfileFitView>> FitRunAsync(int runId, CancellationToken ct = default)
    {
        var run = await store.GetRunAsync(runId, ct);
        if (run is null)
        {
            return Outcome<ProfileFitView>.NotFound($"Profiling run {runId} does not exist.");
        }

        var target = await store.GetTargetAsync(run.DeploymentId, ct);
        if (target is null)
        {
            return Outcome<ProfileFitView>.NotFound($"Deployment {run.DeploymentId} does not exist.");
        }

        var samples = (await store.ListSamplesAsync(runId, ct)).Select(s => s.Sample).ToList();
        var result = ProfileFitter.Fit(PointMeans(samples));
        if (!result.Succeeded)
        {
            return Outcome<ProfileFitView>.Invalid("samples", $"Run {runId} cannot be fitted: {result.Failure}");
        }

        return Outcome<ProfileFitView>.Ok(await store.SaveFitAsync(Describe(result.Fit, samples, target, run.DeploymentId, runId), ct));
    }

    /// <summary>
    /// One sample per measured point (input and output length, load), holding the means of its successful requests
    /// without the fastest and the slowest (when it has at least <see cref="TrimmedFrom"/>), plus the error samples as
    /// they are. The fit is over grid points, not requests, so its cross-validation folds are grid points left out.
    /// </summary>
    /// <remarks>
    /// A mean, because the curves are means: under load the others' prompts are batched, and a request waits for those
    /// batched with and before it, so one cell's TTFTs are several clusters (one per batch position) whose mean is what
    /// <see cref="LatencyModel"/> predicts (φ is a mean over the positions). A median picks one cluster, and which one
    /// depends on how the closed loop happened to group: 512-token prompts at 16 in flight measured 128 ms for 11 of 16
    /// requests and 176 ms for 5, a median of 128 ms where the mean is 143 ms. Without the extremes, because a stalled
    /// request on a busy client (a burst of tokens read late) gives a near-zero TPOT that would pull a mean of eight.
    /// </remarks>
    public static IReadOnlyList<ProfileSample> PointMeans(IReadOnlyList<ProfileSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var points = samples.Where(s => !s.IsError)
            .GroupBy(s => (s.InputTokens, s.OutputTokens, s.Concurrency, s.RequestRatePerSecond))
            .Select(g => new ProfileSample(g.Key.InputTokens, g.Key.OutputTokens, g.Key.Concurrency,
                TrimmedMean(g.Select(s => s.TtftMs)), TrimmedMean(g.Select(s => s.TpotMs)), TrimmedMean(g.Select(s => s.E2eMs)),
                false, g.Key.RequestRatePerSecond));
        return points.Concat(samples.Where(s => s.IsError)).ToList();
    }

    /// <summary>Requests a point needs before <see cref="PointMeans"/> leaves out its fastest and slowest.</summary>
    public const int TrimmedFrom = 5;

    private static double? TrimmedMean(IEnumerable<double?> values)
    {
        var sorted = values.OfType<double>().Order().ToList();
        if (sorted.Count == 0)
        {
            return null;
        }

        var trim = sorted.Count >= TrimmedFrom ? 1 : 0;
        return sorted.Skip(trim).Take(sorted.Count - 2 * trim).Average();
    }

    /// <summary>The fit with its reference shape, saturation throughput and cost (not yet stored: id and version 0).</summary>
    public static ProfileFitView Describe(ProfileFit fit, IReadOnlyList<ProfileSample> samples, ProfileTarget target, int deploymentId, int? runId)
    {
        ArgumentNullException.ThrowIfNull(fit);
        var ok = samples.Where(s => !s.IsError).ToList();
        var input = Median(ok.Select(s => s.InputTokens));
        var output = Median(ok.Select(s => s.OutputTokens));
        var saturation = fit.Model.SaturationThroughput(input, output, fit.MaxConcurrency);
        double? cost = null;
        string basis;
        if (target.InputPricePerMTokUsd is { } pin && target.OutputPricePerMTokUsd is { } pout)
        {
            cost = RequestCost.ApiUsd(input, output, pin, pout);
            basis = $"API prices: ${pin:0.###}/M input, ${pout:0.###}/M output tokens";
        }
        else if (target.GpuPricePerHourUsd > 0 && target.GpuCount > 0)
        {
            cost = RequestCost.SelfHostedUsd(target.GpuPricePerHourUsd, target.GpuCount, saturation.RequestsPerSecond);
            basis = $"${target.GpuPricePerHourUsd:0.###}/GPU-hour × {target.GpuCount} GPU(s) / {saturation.RequestsPerSecond:0.##} req/s (fitted saturation at c = {saturation.Concurrency:0})";
        }
        else
        {
            basis = "No API prices on the model and no GPU price: cost unknown.";
        }

        return new ProfileFitView(0, deploymentId, 0, runId, true, default, fit, input, output,
            saturation.RequestsPerSecond, saturation.OutputTokensPerSecond, cost, basis);
    }

    private static int Median(IEnumerable<int> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 1 : sorted[sorted.Count / 2];
    }
}
