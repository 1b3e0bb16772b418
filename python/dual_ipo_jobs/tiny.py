"""Tiny randomly initialised models in the real models' folder layouts, for CPU tests and the tiny
campaign. Nothing is downloaded: the tokenizer is trained here on a few sentences.

    python -m dual_ipo_jobs.tiny cogvideox /tmp/tiny-cogvideox

writes a CogVideoXPipeline folder (model_index.json, transformer/, vae/, text_encoder/, tokenizer/,
scheduler/) that the jobs load with from_pretrained exactly as they load THUDM/CogVideoX-2b;
`qwen2vl OUT_DIR` writes a Qwen2-VL folder (model and processor) as Qwen/Qwen2-VL-2B-Instruct's; `data OUT_DIR`
writes the tiny campaign's synthetic inputs (tiny_data: annotations, real videos, evaluation prompts).
"""
from __future__ import annotations

import sys

SENTENCES = [
    "a red ball rolls to the left on a green field",
    "a blue cube bounces up and down slowly",
    "two cats play with a yellow ball in the garden",
    "a small car drives fast along the road at night",
    "the camera pans over a quiet lake at sunrise",
    "a dog runs in circles while it is raining",
]
# Frames, height and width the tiny CogVideoX is run at (VAE: 4x in time, 8x in space).
TINY_VIDEO = {"numFrames": 9, "height": 16, "width": 16, "maxSequenceLength": 16}


def scratch_tokenizer(special=("<pad>", "</s>", "<unk>"), extra=()):
    """A word-level fast tokenizer trained on SENTENCES; T5-style specials (pad id 0, eos appended)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(SENTENCES, trainers.WordLevelTrainer(special_tokens=[*special, *extra]))
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   additional_special_tokens=list(extra) or None)


def tiny_cogvideox(seed: int = 0):
    """CogVideoXPipeline components at the size of diffusers' own CogVideoX tests (about 0.1 M parameters)."""
    import torch
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(seed)
    tokenizer = scratch_tokenizer()
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=37, num_layers=1,
                                           num_heads=4, pad_token_id=tokenizer.pad_token_id, decoder_start_token_id=0))
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=8, in_channels=4, out_channels=4, time_embed_dim=2, text_embed_dim=32,
        num_layers=1, sample_width=2, sample_height=2, sample_frames=9, patch_size=2, temporal_compression_ratio=4,
        max_text_seq_length=TINY_VIDEO["maxSequenceLength"])
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)
    # CogVideoX-2b's scheduler settings (v-prediction, zero terminal SNR), so the tests take its code paths.
    scheduler = CogVideoXDDIMScheduler(prediction_type="v_prediction", rescale_betas_zero_snr=True, snr_shift_scale=3.0,
                                       timestep_spacing="trailing", beta_schedule="scaled_linear", clip_sample=False,
                                       set_alpha_to_one=True, beta_start=0.00085, beta_end=0.012)
    return CogVideoXPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=scheduler)


QWEN_SPECIAL = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
# Qwen2-VL's chat template, reduced to what the critic sends (text and videos).
QWEN_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}{% else %}"
                 "{% for c in m['content'] %}{% if c['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
                 "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def tiny_qwen2vl(seed: int = 0):
    """(Qwen2VLForConditionalGeneration, Qwen2VLProcessor): 2 text layers of width 32, a 1-block vision
    tower, M-RoPE, videos of 28x28 pixels (4 patches of 14 merged 2x2)."""
    import torch
    from transformers import (Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessor, Qwen2VLProcessor,
                              Qwen2VLVideoProcessor)

    tok = scratch_tokenizer(extra=QWEN_SPECIAL + ["Answer:", "A", "B", "good", "normal", "bad", "Video", ":", "."])
    ids = dict(zip(QWEN_SPECIAL, tok.convert_tokens_to_ids(QWEN_SPECIAL)))
    pix = dict(min_pixels=28 * 28, max_pixels=28 * 28, patch_size=14, merge_size=2, temporal_patch_size=2)
    processor = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(**pix), video_processor=Qwen2VLVideoProcessor(**pix),
                                 tokenizer=tok, chat_template=QWEN_TEMPLATE)
    special = dict(bos_token_id=None, eos_token_id=ids["<|im_end|>"], pad_token_id=tok.pad_token_id)
    config = Qwen2VLConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=1024, tie_word_embeddings=True,
                         rope_scaling={"type": "mrope", "mrope_section": [1, 1, 2]}, **special),
        vision_config=dict(depth=1, embed_dim=32, hidden_size=32, num_heads=4, mlp_ratio=2, patch_size=14, spatial_merge_size=2,
                           temporal_patch_size=2, in_chans=3),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"], tie_word_embeddings=True, **special)
    torch.manual_seed(seed)
    return Qwen2VLForConditionalGeneration(config), processor


def synthetic_video(kind: str, seed: int, frames: int = 9, size: int = 16):
    """(T, H, W, 3) in [0, 1]: "smooth" (a square gliding over a still background), "flicker" (the same with
    the brightness jumping frame to frame) or "noise" (pixel noise)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if kind == "noise":
        return rng.random((frames, size, size, 3), dtype=np.float32)
    v = np.tile(rng.uniform(0.2, 0.5, (1, 1, 1, 3)).astype(np.float32), (frames, size, size, 1))
    colour = rng.uniform(0.6, 1.0, 3).astype(np.float32)
    y = int(rng.integers(0, size - 6))
    for t in range(frames):
        x = (int(rng.integers(0, 3)) + t) % (size - 5)
        v[t, y:y + 5, x:x + 5] = colour
    if kind == "flicker":
        v *= rng.uniform(0.4, 1.0, (frames, 1, 1, 1)).astype(np.float32)
    return np.clip(v, 0, 1)


def tiny_data(out: str, seed: int = 0) -> dict:
    """The tiny campaign's inputs, synthesised (no human saw them): annotations.jsonl, a scripted "annotator" who
    prefers the smooth video to the flickering or noisy one on every dimension (seed set: 3 prompts, test set: 3
    others), real-videos.jsonl (smooth videos) and eval-prompts.json. Returns their paths."""
    import json
    import os

    from dual_ipo_jobs.videos import write_mp4

    os.makedirs(os.path.join(out, "videos"), exist_ok=True)

    def video(kind, n):
        rel = f"videos/{kind}-{n}.mp4"
        write_mp4(os.path.join(out, rel), synthetic_video(kind, seed * 1000 + n * 10 + len(kind)))
        return rel
    rows, real = [], []
    for n, prompt in enumerate(SENTENCES):
        split = "seed" if n < 3 else "test"
        good, bad = video("smooth", n), video("flicker" if n % 2 else "noise", n)
        for d, dim in enumerate(("consistency", "motion", "faithfulness")):
            a, b, pref = (good, bad, "A") if (n + d) % 2 == 0 else (bad, good, "B")
            rows.append({"prompt": prompt, "dimension": dim, "videoA": a, "videoB": b, "preferred": pref, "split": split,
                         "rationale": "the ball rolls slowly" if pref == "A" else "the cube bounces up and down"})
            rows.append({"prompt": prompt, "dimension": dim, "video": good, "grade": "good", "split": split})
            rows.append({"prompt": prompt, "dimension": dim, "video": bad, "grade": "bad", "split": split})
        real.append({"prompt": prompt, "video": video("smooth", 100 + n)})
    paths = {"annotations": os.path.join(out, "annotations.jsonl"), "realVideos": os.path.join(out, "real-videos.jsonl"),
             "evalPromptsFile": os.path.join(out, "eval-prompts.json")}
    for key, data in (("annotations", rows), ("realVideos", real)):
        with open(paths[key], "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in data)
    with open(paths["evalPromptsFile"], "w", encoding="utf-8") as f:
        json.dump([{"id": "ball", "text": SENTENCES[0]}, {"id": "cat", "text": SENTENCES[2]}, {"id": "lake", "text": SENTENCES[4]}], f)
    return paths


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ("cogvideox", "qwen2vl", "data"):
        sys.exit("usage: python -m dual_ipo_jobs.tiny cogvideox|qwen2vl|data OUT_DIR")
    if argv[0] == "cogvideox":
        tiny_cogvideox().save_pretrained(argv[1])
    elif argv[0] == "data":
        tiny_data(argv[1])
    else:
        model, processor = tiny_qwen2vl()
        model.save_pretrained(argv[1])
        processor.save_pretrained(argv[1])
    print(argv[1])


if __name__ == "__main__":
    main()
