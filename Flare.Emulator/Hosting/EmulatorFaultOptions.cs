using System.ComponentModel.DataAnnotations;

namespace Flare.Emulator.Hosting;

/// <summary>
/// Faults an emulated backend injects. Each decision is drawn from the backend's seed and the request's
/// ordinal number on that backend (1, 2, 3, ... in arrival order), so a run with the same seed and the same
/// request order sees exactly the same faults. Every delay is divided by the backend's time scale.
/// </summary>
public sealed record EmulatorFaultOptions
{
    /// <summary>Probability (0–1) that a request fails at once with <see cref="ErrorStatusCode"/>. Default 0.</summary>
    [Range(0.0, 1.0)]
    public double ErrorRate { get; init; }

    /// <summary>HTTP status of an injected error: 429, 500 or 503 (any 4xx/5xx is accepted). Default 503.</summary>
    [Range(400, 599)]
    public int ErrorStatusCode { get; init; } = 503;

    /// <summary>Value of the <c>Retry-After</c> header (seconds) sent with an injected 429 or 503. Default 1.</summary>
    [Range(0, int.MaxValue)]
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Probability (0–1) that a request is held for <see cref="SpikeMs"/> before it reaches the scheduler. Default 0.</summary>
    [Range(0.0, 1.0)]
    public double SpikeProbability { get; init; }

    /// <summary>Latency added by a spike, milliseconds (simulated time). Default 0.</summary>
    [Range(0.0, double.MaxValue)]
    public double SpikeMs { get; init; }

    /// <summary>Probability (0–1) that the first token is held back for <see cref="FirstTokenStallMs"/>. Default 1 (every request, when a stall is set).</summary>
    [Range(0.0, 1.0)]
    public double FirstTokenStallProbability { get; init; } = 1.0;

    /// <summary>Stall between the first token being generated and it being sent, milliseconds (simulated time). Default 0 (no stall).</summary>
    [Range(0.0, double.MaxValue)]
    public double FirstTokenStallMs { get; init; }

    /// <summary>Probability (0–1) that the connection is aborted after <see cref="DisconnectAfterTokens"/> tokens, before <c>[DONE]</c>. Default 0.</summary>
    [Range(0.0, 1.0)]
    public double DisconnectProbability { get; init; }

    /// <summary>Content tokens sent before an injected disconnect (capped at the request's output length). Default 1.</summary>
    [Range(0, int.MaxValue)]
    public int DisconnectAfterTokens { get; init; } = 1;

    /// <summary>No faults.</summary>
    public static EmulatorFaultOptions None { get; } = new();
}
