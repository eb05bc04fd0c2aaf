#!/usr/bin/python3
"""Pulls an image through containerd's CRI image service the way the kubelet does.

Calls runtime.v1.ImageService/PullImage over the CRI socket with an AuthConfig whose
server_address is empty, as the kubelet sends the credentials it found for the image's
registry. The request is encoded by hand (a few protobuf fields), so no generated code and no
.proto file are needed; only Debian's python3-grpcio.

Usage: cri_pull.py SOCKET IMAGE [--username USER --password PASSWORD]
Prints the image reference (the image id) that containerd answers; exit 1 on a gRPC error.
"""

import argparse
import sys

import grpc

PULL_IMAGE = "/runtime.v1.ImageService/PullImage"


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A length-delimited field (wire type 2): strings and embedded messages."""
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def pull_image_request(image, username, password):
    # ImageSpec { string image = 1; }
    spec = field(1, image)
    request = field(1, spec)
    if username or password:
        # AuthConfig { username = 1; password = 2; auth = 3; server_address = 4; ... }
        # server_address stays empty (proto3 default, so not encoded), as the kubelet sends it.
        auth = field(1, username) + field(2, password)
        request += field(2, auth)
    # PullImageRequest { ImageSpec image = 1; AuthConfig auth = 2; PodSandboxConfig sandbox_config = 3; }
    return request


def read_varint(data, pos):
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def image_ref(response):
    """PullImageResponse { string image_ref = 1; }"""
    pos = 0
    while pos < len(response):
        key, pos = read_varint(response, pos)
        if key & 7 != 2:
            raise ValueError(f"unexpected wire type in PullImageResponse: {key & 7}")
        length, pos = read_varint(response, pos)
        if key >> 3 == 1:
            return response[pos : pos + length].decode()
        pos += length
    return ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("socket")
    parser.add_argument("image")
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    request = pull_image_request(args.image, args.username, args.password)
    with grpc.insecure_channel(f"unix://{args.socket}") as channel:
        pull = channel.unary_unary(PULL_IMAGE)
        try:
            response = pull(request, timeout=args.timeout)
        except grpc.RpcError as error:
            print(f"PullImage {args.image}: {error.code().name}: {error.details()}", file=sys.stderr)
            return 1
    print(image_ref(response))
    return 0


if __name__ == "__main__":
    sys.exit(main())
