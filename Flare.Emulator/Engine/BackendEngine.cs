using System.Threading.Channels;
using Flare.Emulator.Profiles;

namespace Flare.Emulator.Engine;

/// <summary>
/// The single scheduler loop of one emulated backend. Requests arrive through a channel; the loop runs
/// <see cref="BatchScheduler"/> steps, sleeps for each step's simulated duration divided by the time scale,
/// and then hands the step's tokens to the requests' channels. There is no timer per request or token.
/// </summary>
/// <remarks>
/// Step ends are kept on an absolute deadline (previous deadline + duration), so coarse timers and thread-pool
/// jitter do not accumulate: a late wake-up is followed by shorter sleeps. If the loop falls more than
/// <see cref="MaxLagMs"/> behind (an overloaded machine), the deadline is reset so it does not burst forever.
/// </remarks>
internal sealed class BackendEngine : IAsyncDisposable
{
    private const double MaxLagMs = 200;
    private const double MaxLateMs = 5;

    private readonly Channel<Sequence> _arrivals =
        Channel.CreateUnbounded<Sequence>(new UnboundedChannelOptions { SingleReader = true });

    private readonly BatchScheduler _scheduler;
    private readonly Func<EngineSettings> _settings;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _waiting;
    private int _running;
    private double _lateMs;

    public BackendEngine(EmulatorProfile profile, Func<EngineSettings> settings, TimeProvider time)
    {
        _scheduler = new BatchScheduler(profile);
        _settings = settings;
        _time = time;
        _loop = Task.Run(RunAsync);
    }

    public EmulatorProfile Profile => _scheduler.Profile;

    /// <summary>Requests admitted to the batch (approximate, updated once per step).</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Requests queued for admission (approximate, updated once per step).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public bool Fits(int promptTokens, int outputTokens) => _scheduler.Fits(promptTokens, outputTokens);

    public bool TrySubmit(Sequence sequence) => _arrivals.Writer.TryWrite(sequence);

    /// <summary>Stops accepting requests; the loop finishes the ones it has and then exits.</summary>
    public void Retire() => _arrivals.Writer.TryComplete();

    public async ValueTask DisposeAsync()
    {
        Retire();
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var ct = _stop.Token;
        long deadline = _time.GetTimestamp();
        try
        {
            while (true)
            {
                while (_arrivals.Reader.TryRead(out var arrived))
                {
                    _scheduler.Enqueue(arrived);
                }

                if (_scheduler.IsIdle)
                {
                    Publish();
                    if (!await _arrivals.Reader.WaitToReadAsync(ct))
                    {
                        return;
                    }

                    // vLLM's engine loop picks up new requests at its next iteration; waiting this long
                    // lets requests sent together be prefilled together (part of the predicted TTFT).
                    // The wake delay counts from the server receiving the request (as vLLM's TTFT metric does),
                    // so parsing and tokenizing the body happen within it rather than on top of it.
                    var now0 = _time.GetTimestamp();
                    var arrived = _arrivals.Reader.TryPeek(out var head) && head.ArrivedAt > 0 ? Math.Min(head.ArrivedAt, now0) : now0;
                    deadline = arrived + ToTicks(_settings().WakeDelayMs / _settings().TimeScale);
                    await SleepUntilAsync(deadline, ct);
                    continue;
                }

                var kind = _scheduler.Step();
                Publish();
                if (kind == StepKind.Idle)
                {
                    continue;
                }

                deadline += ToTicks(_scheduler.LastDurationMs / _settings().TimeScale);
                var now = _time.GetTimestamp();
                if (deadline > now)
                {
                    await SleepUntilAsync(deadline, ct);
                }
                else if (_time.GetElapsedTime(deadline, now).TotalMilliseconds > MaxLagMs)
                {
                    deadline = now;
                }

                foreach (var s in _scheduler.LastEmitted)
                {
                    if (s.Tokens is null)
                    {
                        continue;
                    }

                    s.Tokens.TryWrite(s.Generated);
                    if (s.IsFinished)
                    {
                        s.Tokens.TryComplete();
                    }
                }
            }
        }
        finally
        {
            var stopped = new ObjectDisposedException(nameof(BackendEngine), "The emulated backend was stopped.");
            foreach (var s in _scheduler.RemoveAll())
            {
                s.Tokens?.TryComplete(stopped);
            }

            while (_arrivals.Reader.TryRead(out var s))
            {
                s.Tokens?.TryComplete(stopped);
            }

            Publish();
        }
    }

    private void Publish()
    {
        Volatile.Write(ref _waiting, _scheduler.WaitingCount);
        Volatile.Write(ref _running, _scheduler.RunningCount);
    }

    private long ToTicks(double ms) => (long)(ms * _time.TimestampFrequency / 1000.0);

    /// <summary>
    /// Sleeps until about <paramref name="deadline"/>. Timers wake late by a roughly constant amount (about a
    /// millisecond on Linux), so the sleep is shortened by a running average of that lateness: step ends then
    /// land on their deadlines on average instead of one timer tick after them.
    /// </summary>
    private async Task SleepUntilAsync(long deadline, CancellationToken ct)
    {
        var start = _time.GetTimestamp();
        var requested = _time.GetElapsedTime(start, deadline).TotalMilliseconds - _lateMs;
        if (requested < 0.5)
        {
            return;
        }

        await Task.Delay(TimeSpan.FromMilliseconds(requested), _time, ct);
        var late = _time.GetElapsedTime(start).TotalMilliseconds - requested;
        _lateMs = Math.Clamp(0.9 * _lateMs + 0.1 * late, 0, MaxLateMs);
    }
}

/// <summary>Settings the engine reads at every step, so a backend can be retuned while it runs.</summary>
internal readonly record struct EngineSettings(double TimeScale, double WakeDelayMs);
