using Flare.Routing.Registry;

namespace Flare.Data.Profiling;

/// <summary>
/// The grid of a profiling sweep (ROUTING.md §3) and how it is measured. Stored with each run, so a run can be
/// resumed or re-run exactly as it was started.
/// </summary>
public sealed record ProfileSweepSettings
{
    /// <summary>Prompt lengths to measure, in tokens (the prompt is built to this count with o200k_base; the
    /// server's own count from <c>usage</c> is what is recorded). Default 128, 512, 2048.</summary>
    public IReadOnlyList<int> InputLengths { get; init; } = [128, 512, 2048];

    /// <summary>Output lengths, in tokens, asked for with <c>max_tokens</c> (and <c>min_tokens</c> +
    /// <c>ignore_eos</c> when <see cref="ForceOutputLength"/>). Default 16, 128, 384.</summary>
    public IReadOnlyList<int> OutputLengths { get; init; } = [16, 128, 384];

    /// <summary>Concurrency levels: requests kept in flight (closed loop). Default 1, 4, 16. Ignored when
    /// <see cref="RequestRates"/> is set.</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 4, 16];

    /// <summary>Poisson arrival rates in requests per second (open loop). When set, the sweep steps through
    /// these rates instead of <see cref="Concurrency"/>. Default none.</summary>
    public IReadOnlyList<double> RequestRates { get; init; } = [];

    /// <summary>Measured requests per grid cell (at a concurrency level, at least that level). Default 8.</summary>
    public int RequestsPerCell { get; init; } = 8;

    /// <summary>Requests per cell sent before measuring, not recorded: they bring the load to its steady state
    /// (a closed loop starts as one burst). At a concurrency level, this many rounds. Default 1.</summary>
    public int WarmupRequests { get; init; } = 1;

    /// <summary>The run stops (as timed out, resumable) after this many minutes. Default 30.</summary>
    public double TimeLimitMinutes { get; init; } = 30;

    /// <summary>A request that takes longer than this is recorded as an error (timeout), in seconds. Default 120.</summary>
    public double RequestTimeoutSeconds { get; init; } = 120;

    /// <summary>Send vLLM's <c>min_tokens</c> and <c>ignore_eos</c> so every answer has exactly the asked output
    /// length. Turn off for paid APIs that reject unknown fields. Default true.</summary>
    public bool ForceOutputLength { get; init; } = true;

    /// <summary>Seed of the prompt words and of the Poisson gaps, so a run can be repeated exactly. Default 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Largest grid a run may have (cells).</summary>
    public const int MaxCells = 2000;

    /// <summary>The grid cells in the order they are measured: by load, then input length, then output length.
    /// A cell's <see cref="ProfileCell.Index"/> is its position, stable for the same settings.</summary>
    public IReadOnlyList<ProfileCell> Cells()
    {
        var cells = new List<ProfileCell>();
        var loads = RequestRates.Count > 0
            ? RequestRates.Select(r => (Concurrency: (int?)null, Rate: (double?)r))
            : Concurrency.Select(c => (Concurrency: (int?)c, Rate: (double?)null));
        foreach (var (c, rate) in loads)
        {
            foreach (var input in InputLengths)
            {
                foreach (var output in OutputLengths)
                {
                    cells.Add(new ProfileCell(cells.Count, input, output, c, rate));
                }
            }
        }

        return cells;
    }

    /// <summary>Rule violations by field; empty when the settings can run.</summary>
    public FieldErrors Validate()
    {
        var errors = new FieldErrors();
        if (InputLengths is not { Count: > 0 } || InputLengths.Any(l => l is < 8 or > 1_000_000))
        {
            errors.Add(nameof(InputLengths), "Give at least one input length, each from 8 to 1,000,000 tokens.");
        }

        if (OutputLengths is not { Count: > 0 } || OutputLengths.Any(l => l is < 1 or > 1_000_000))
        {
            errors.Add(nameof(OutputLengths), "Give at least one output length, each from 1 to 1,000,000 tokens.");
        }

        if ((RequestRates is null || RequestRates.Count == 0) && (Concurrency is not { Count: > 0 } || Concurrency.Any(c => c is < 1 or > 4096)))
        {
            errors.Add(nameof(Concurrency), "Give at least one concurrency level, each from 1 to 4096 (or request rates instead).");
        }

        if (RequestRates is not null && RequestRates.Any(r => !double.IsFinite(r) || r <= 0 || r > 100_000))
        {
            errors.Add(nameof(RequestRates), "Request rates must be greater than 0 and at most 100,000 per second.");
        }

        if (RequestsPerCell is < 1 or > 100_000)
        {
            errors.Add(nameof(RequestsPerCell), "Requests per cell must be from 1 to 100,000.");
        }

        if (WarmupRequests is < 0 or > 1000)
        {
            errors.Add(nameof(WarmupRequests), "Warm-up requests must be from 0 to 1000.");
        }

        if (!double.IsFinite(TimeLimitMinutes) || TimeLimitMinutes <= 0 || TimeLimitMinutes > 7 * 24 * 60)
        {
            errors.Add(nameof(TimeLimitMinutes), "The time limit must be greater than 0 and at most a week (in minutes).");
        }

        if (!double.IsFinite(RequestTimeoutSeconds) || RequestTimeoutSeconds <= 0 || RequestTimeoutSeconds > 3600)
        {
            errors.Add(nameof(RequestTimeoutSeconds), "The request timeout must be greater than 0 and at most 3600 seconds.");
        }

        if (errors.IsEmpty && Cells().Count > MaxCells)
        {
            errors.Add(nameof(InputLengths), $"The grid has {Cells().Count} cells; at most {MaxCells} are allowed.");
        }

        return errors;
    }
}

/// <summary>One point of the sweep grid.</summary>
/// <param name="Index">Position in <see cref="ProfileSweepSettings.Cells"/>.</param>
/// <param name="InputTokens">Prompt length asked for, tokens.</param>
/// <param name="OutputTokens">Output length asked for, tokens.</param>
/// <param name="Concurrency">Requests kept in flight, for a concurrency sweep.</param>
/// <param name="RequestRate">Poisson arrival rate per second, for a rate sweep.</param>
public sealed record ProfileCell(int Index, int InputTokens, int OutputTokens, int? Concurrency, double? RequestRate)
{
    public override string ToString() =>
        $"in {InputTokens} · out {OutputTokens} · " + (Concurrency is { } c ? $"c={c}" : $"{RequestRate:0.##}/s");
}
