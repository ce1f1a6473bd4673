using Flare.Emulator.Calibration;

namespace Flare.Emulator;

/// <summary>Standalone entry point of the emulator.</summary>
public static class EmulatorProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "calibrate")
        {
            return Calibrator.Run(args[1..]);
        }

        await Task.CompletedTask;
        return 1;
    }
}
