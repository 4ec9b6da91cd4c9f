"""Voucher pools: importing codes (importing.py) and redeeming them (redemption.py). The
engine's side, a win taking its code, is contests/moments/vouchers.py."""
