"""What a run trains: the methods registry (``registry``), backbones (``models``) and the CPU
presets' stand-ins (``standins``), objectives (``objectives``), the SemCovNet encoder's options
(``encoder_config``), late fusion (``late_fusion``) and a synthetic split's ceiling (``oracle``).
"""

__all__: list[str] = []
