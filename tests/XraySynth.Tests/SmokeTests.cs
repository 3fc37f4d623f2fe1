namespace XraySynth.Tests;
public class SmokeTests { [Fact] public void Torch_Loads() => Assert.Equal(3, TorchSharp.torch.ones(3).sum().item<float>()); }
