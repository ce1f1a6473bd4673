namespace Flare.Routing.Routing;

/// <summary>
/// The live, mutable side of a deployment: requests in flight and passive health. Lock-free; read on
/// every routing decision, written by the request path and the health prober.
/// </summary>
/// <remarks>
/// Passive health takes a deployment out after a run of consecutive failures; only an active probe that
/// succeeds brings it back (<see cref="Restore"/>), no sooner than <see cref="ProbeAfter"/>.
/// </remarks>
public sealed class DeploymentState
{
    private int _inFlight;
    private int _consecutiveFailures;
    private int _ejected;
    private long _probeAfterTicks;

    public int InFlight => Volatile.Read(ref _inFlight);

    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    public bool IsEjected => Volatile.Read(ref _ejected) == 1;

    /// <summary>The earliest time an active probe may try to bring an ejected deployment back.</summary>
    public DateTimeOffset ProbeAfter => new(Volatile.Read(ref _probeAfterTicks), TimeSpan.Zero);

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    public void RecordSuccess() => Volatile.Write(ref _consecutiveFailures, 0);

    /// <summary>Counts a failure; after <paramref name="threshold"/> in a row the deployment is taken out and
    /// may be probed after <paramref name="probeAfter"/>. Returns true when this failure took it out.</summary>
    public bool RecordFailure(DateTimeOffset now, int threshold, TimeSpan probeAfter)
    {
        var failures = Interlocked.Increment(ref _consecutiveFailures);
        if (failures < threshold)
        {
            return false;
        }

        Volatile.Write(ref _probeAfterTicks, (now + probeAfter).UtcTicks);
        return Interlocked.Exchange(ref _ejected, 1) == 0;
    }

    /// <summary>A probe failed: stay out, probe again later.</summary>
    public void ProbeFailed(DateTimeOffset now, TimeSpan probeAfter) => Volatile.Write(ref _probeAfterTicks, (now + probeAfter).UtcTicks);

    /// <summary>An active probe succeeded: back in at once.</summary>
    public void Restore()
    {
        Volatile.Write(ref _consecutiveFailures, 0);
        Volatile.Write(ref _ejected, 0);
    }
}
