namespace Flare.Routing.Routing;

/// <summary>
/// The live, mutable side of a deployment: requests in flight and passive health. Lock-free; read on
/// every routing decision, written by the request path and the health prober.
/// </summary>
public sealed class DeploymentState
{
    private int _inFlight;
    private int _consecutiveFailures;
    private long _ejectedUntilTicks;

    public int InFlight => Volatile.Read(ref _inFlight);

    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>Until when passive health keeps this deployment out, in <see cref="TimeProvider"/> timestamp ticks (UTC).</summary>
    public DateTimeOffset EjectedUntil => new(Volatile.Read(ref _ejectedUntilTicks), TimeSpan.Zero);

    public bool IsHealthy(DateTimeOffset now) => Volatile.Read(ref _ejectedUntilTicks) <= now.UtcTicks;

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    public void RecordSuccess() => Volatile.Write(ref _consecutiveFailures, 0);

    /// <summary>Counts a failure; after <paramref name="threshold"/> in a row the deployment is taken out for <paramref name="ejectFor"/>.
    /// Returns true when this failure ejected it.</summary>
    public bool RecordFailure(DateTimeOffset now, int threshold, TimeSpan ejectFor)
    {
        var failures = Interlocked.Increment(ref _consecutiveFailures);
        if (failures < threshold)
        {
            return false;
        }

        var until = (now + ejectFor).UtcTicks;
        var previous = Interlocked.Exchange(ref _ejectedUntilTicks, until);
        return previous <= now.UtcTicks;
    }

    /// <summary>An active probe succeeded: back in at once.</summary>
    public void Restore()
    {
        Volatile.Write(ref _consecutiveFailures, 0);
        Volatile.Write(ref _ejectedUntilTicks, 0);
    }
}
