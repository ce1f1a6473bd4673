using Flare.Emulator.Engine;
using Flare.Emulator.Profiles;

namespace Flare.Emulator.Hosting;

/// <summary>One emulated deployment in an <see cref="EmulatorFleet"/>: a name, a profile and its scheduler loop.</summary>
public sealed class EmulatorBackend
{
    private EmulatorBackendOptions _options;
    private long _requests;

    internal EmulatorBackend(string name, EmulatorBackendOptions options, EmulatorProfile profile, TimeProvider time)
    {
        Name = name;
        _options = options;
        Profile = profile;
        Time = time;
        Engine = new BackendEngine(profile, () => new EngineSettings(Options.TimeScale, Options.WakeDelayMs), time);
    }

    /// <summary>Backend name: the first path segment of its base URL (<c>/{name}/v1</c>).</summary>
    public string Name { get; }

    /// <summary>The latency profile the backend emulates.</summary>
    public EmulatorProfile Profile { get; }

    /// <summary>Current options; replaced atomically by <see cref="EmulatorFleet.AddOrUpdate"/>.</summary>
    public EmulatorBackendOptions Options
    {
        get => Volatile.Read(ref _options);
        internal set => Volatile.Write(ref _options, value);
    }

    /// <summary>Model names listed by <c>/v1/models</c>.</summary>
    public IReadOnlyList<string> ServedModelNames => Options.ServedModelNames is { Count: > 0 } names ? names : [Profile.ModelId];

    /// <summary>Requests in the running batch (sampled once per scheduler step).</summary>
    public int Running => Engine.Running;

    /// <summary>Requests waiting for admission to the batch (sampled once per scheduler step).</summary>
    public int Waiting => Engine.Waiting;

    /// <summary>Completion requests received so far (each one's ordinal drives its faults and length draw).</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    internal BackendEngine Engine { get; }

    internal TimeProvider Time { get; }

    internal long NextOrdinal() => Interlocked.Increment(ref _requests);
}
