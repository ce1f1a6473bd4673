using Flare.Emulator.Profiles;

namespace Flare.Emulator.Engine;

/// <summary>What one scheduler step did.</summary>
internal enum StepKind
{
    Idle,
    Prefill,
    Decode,
}

/// <summary>
/// The continuous-batching policy of vLLM's (non-chunked) scheduler, in steps and tokens only: no clock.
/// A step either prefills waiting requests (FIFO, bounded by <see cref="EmulatorProfile.MaxBatchedTokens"/>,
/// <see cref="EmulatorProfile.MaxNumSeqs"/> and free KV cache) — prefills go first, as in vLLM — or gives every
/// running sequence one token. A prefill step also yields each prefilled sequence's first token.
/// Because decisions never depend on durations, the same class drives the live engine (which sleeps for each
/// step's duration) and the calibration (which sums the step features in virtual time).
/// </summary>
/// <remarks>
/// KV cache: a request reserves prompt + output tokens when admitted and frees them when it finishes. vLLM
/// allocates blocks lazily and preempts on overflow; reserving up front gives the same bound on the batch
/// without recomputation, which keeps streams smooth and the model analytically tractable.
/// Not thread-safe: one owner (the engine loop or the calibration) calls it.
/// </remarks>
internal sealed class BatchScheduler(EmulatorProfile profile)
{
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly List<Sequence> _running = [];
    private readonly List<Sequence> _emitted = [];
    private long _reserved;

    public EmulatorProfile Profile { get; } = profile;

    public int WaitingCount => _waiting.Count;

    public int RunningCount => _running.Count;

    public bool IsIdle => _waiting.Count == 0 && _running.Count == 0;

    public StepKind LastKind { get; private set; }

    public double LastDurationMs { get; private set; }

    public long LastPrefillTokens { get; private set; }

    public int LastBatch { get; private set; }

    public long LastContextTokens { get; private set; }

    /// <summary>Sequences that received a token in the last step (finished ones included).</summary>
    public IReadOnlyList<Sequence> LastEmitted => _emitted;

    /// <summary>True when a request of this size can ever run on the profile.</summary>
    public bool Fits(int promptTokens, int outputTokens) =>
        (long)promptTokens + outputTokens <= Math.Min(Profile.MaxModelLength, Profile.KvCacheTokens)
        && promptTokens <= Profile.MaxBatchedTokens;

    public void Enqueue(Sequence sequence) => _waiting.AddLast(sequence);

    /// <summary>Removes and returns every sequence still waiting or running (used when the engine stops).</summary>
    public List<Sequence> RemoveAll()
    {
        var all = new List<Sequence>(_waiting);
        all.AddRange(_running);
        _waiting.Clear();
        _running.Clear();
        _reserved = 0;
        return all;
    }

    /// <summary>Plans and applies the next step; its description is in the Last* properties.</summary>
    public StepKind Step()
    {
        _emitted.Clear();
        DropCancelled();

        long prefillTokens = 0;
        var node = _waiting.First;
        while (node is not null)
        {
            var s = node.Value;
            if (_running.Count + _emitted.Count >= Profile.MaxNumSeqs
                || (_emitted.Count > 0 && prefillTokens + s.PromptTokens > Profile.MaxBatchedTokens)
                || _reserved + s.Reservation > Profile.KvCacheTokens)
            {
                break;
            }

            var next = node.Next;
            _waiting.Remove(node);
            _reserved += s.Reservation;
            prefillTokens += s.PromptTokens;
            _emitted.Add(s);
            node = next;
        }

        if (_emitted.Count > 0)
        {
            foreach (var s in _emitted)
            {
                s.Generated = 1;
                if (s.IsFinished)
                {
                    _reserved -= s.Reservation;
                }
                else
                {
                    _running.Add(s);
                }
            }

            return Record(StepKind.Prefill, Profile.PrefillMs(prefillTokens), prefillTokens, _emitted.Count, 0);
        }

        if (_running.Count > 0)
        {
            long context = 0;
            foreach (var s in _running)
            {
                context += s.PromptTokens + s.Generated;
            }

            var batch = _running.Count;
            foreach (var s in _running)
            {
                s.Generated++;
                _emitted.Add(s);
            }

            _running.RemoveAll(s =>
            {
                if (!s.IsFinished)
                {
                    return false;
                }

                _reserved -= s.Reservation;
                return true;
            });
            return Record(StepKind.Decode, Profile.DecodeStepMs(batch, context), 0, batch, context);
        }

        return Record(StepKind.Idle, 0, 0, 0, 0);
    }

    private StepKind Record(StepKind kind, double durationMs, long prefillTokens, int batch, long context)
    {
        LastKind = kind;
        LastDurationMs = durationMs;
        LastPrefillTokens = prefillTokens;
        LastBatch = batch;
        LastContextTokens = context;
        return kind;
    }

    private void DropCancelled()
    {
        var node = _waiting.First;
        while (node is not null)
        {
            var next = node.Next;
            if (node.Value.Cancelled)
            {
                _waiting.Remove(node);
            }

            node = next;
        }

        _running.RemoveAll(s =>
        {
            if (!s.Cancelled)
            {
                return false;
            }

            _reserved -= s.Reservation;
            return true;
        });
    }
}
